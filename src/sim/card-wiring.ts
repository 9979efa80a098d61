import type { McuProfile } from './mcu-profile.js';
import { expandEnumerations } from '../klipper/dictionary.js';

/** How the emulated card is wired to the simulated MCU (Klipper board_defs vocabulary). */
export type CardWiring =
  | { kind: 'spi'; bus: string; csPin: string }
  | { kind: 'swspi'; miso: string; mosi: string; sclk: string; csPin: string }
  | { kind: 'sdio'; bus: string };

/** The same wiring as enumeration values, for comparing with what the host configures. */
export type ResolvedWiring =
  | { kind: 'spi'; bus: number; cs: number }
  | { kind: 'swspi'; miso: number; mosi: number; sclk: number; cs: number }
  | { kind: 'sdio'; bus: number };

export function pinTable(profile: McuProfile): Map<string, number> {
  return expandEnumerations({ pin: profile.pinRanges }).get('pin')!;
}

/** Resolve names to numbers; throws RangeError naming what the profile lacks. */
export function resolveWiring(profile: McuProfile, w: CardWiring): ResolvedWiring {
  const pins = pinTable(profile);
  const pin = (n: string): number => {
    const v = pins.get(n.toUpperCase()) ?? pins.get(n);
    if (v === undefined) throw new RangeError(`pin ${n} does not exist on ${profile.mcu}`);
    return v;
  };
  switch (w.kind) {
    case 'spi': {
      const bus = profile.spiBuses[w.bus];
      if (bus === undefined) throw new RangeError(`SPI bus ${w.bus} does not exist on ${profile.mcu}`);
      return { kind: 'spi', bus, cs: pin(w.csPin) };
    }
    case 'swspi':
      return { kind: 'swspi', miso: pin(w.miso), mosi: pin(w.mosi), sclk: pin(w.sclk), cs: pin(w.csPin) };
    case 'sdio': {
      const bus = profile.sdioBuses[w.bus];
      if (bus === undefined) throw new RangeError(`SDIO bus ${w.bus} does not exist on ${profile.mcu}`);
      return { kind: 'sdio', bus };
    }
  }
}

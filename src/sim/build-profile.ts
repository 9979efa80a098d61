import type { RawDictionary } from '../klipper/dictionary.js';
import type { McuProfile } from './mcu-profile.js';

type Enum = Record<string, number | [number, number]>;

function ranged(e: Enum | undefined): Record<string, [number, number]> | undefined {
  if (!e) return undefined;
  const out: Record<string, [number, number]> = {};
  for (const [k, v] of Object.entries(e)) out[k] = Array.isArray(v) ? v : [v, 1];
  return out;
}

function single(e: Enum | undefined): Record<string, number> | undefined {
  if (!e) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(e)) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

/**
 * The chip as a build sees it: a Klipper build's dictionary declares CLOCK_FREQ, the pin,
 * spi_bus and sdio_bus enumerations and the BUS_PINS_* constants it was compiled with
 * (scripts/buildcommands.py writes them from DECL_CONSTANT / DECL_ENUMERATION), so after a
 * flash those decide, not the chip's default profile. What the dictionary leaves out is the
 * build's choice too: a build without spi_bus has no SPI buses.
 */
export function profileForBuild(chip: McuProfile, dict: RawDictionary): McuProfile {
  const config = dict.config ?? {};
  const en = (dict.enumerations ?? {}) as Record<string, Enum>;
  const clock = Number(config.CLOCK_FREQ);
  const busPins: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith('BUS_PINS_')) busPins[k] = String(v);
  return {
    ...chip,
    clockFreq: Number.isFinite(clock) && clock > 0 ? clock : chip.clockFreq,
    pinRanges: ranged(en.pin) ?? chip.pinRanges,
    spiBuses: single(en.spi_bus) ?? {},
    sdioBuses: single(en.sdio_bus) ?? {},
    busPins,
  };
}

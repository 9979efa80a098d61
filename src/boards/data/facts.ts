/**
 * Small constructors for sourced facts and the pieces many boards share. Source keys are
 * resolved in docs/sources.md; the catalog test fails on a key that is not listed there.
 */
import type { CardRules, Confidence, KlipperBus, KlipperDef, Sourced } from '../types.js';

/** A fact with its sources (verified unless said otherwise). */
export function fact<T>(value: T, sources: string[], confidence: Confidence = 'verified', note?: string): Sourced<T> {
  return note === undefined ? { value, confidence, sources } : { value, confidence, sources, note };
}
export const inferred = <T>(value: T, sources: string[], note?: string): Sourced<T> => fact(value, sources, 'inferred', note);
/** No source states it; `basis` says what the value rests on (often Klipper's default). */
export const unverified = <T>(value: T, sources: string[], note: string): Sourced<T> => fact(value, sources, 'unverified', note);

// Klipper's flash-sdcard vocabulary (K-BD).
export const spi = (bus: string): KlipperBus => ({ kind: 'spi', bus });
export const swspi = (pins: string): KlipperBus => {
  // board_defs.py spi_pins order: miso, mosi, sclk
  const [miso, mosi, sclk] = pins.split(',') as [string, string, string];
  return { kind: 'swspi', miso, mosi, sclk };
};
/** Software SPI on the SDIO pins: the sign of a bootloader that reads the card over SDIO (K-DOC). */
export const SDIO_AS_SWSPI = swspi('PC8,PD2,PC12');

export function klipperDef(
  definition: string,
  mcu: string,
  bus: KlipperBus,
  csPin: string,
  extra: Partial<Omit<KlipperDef, 'definition' | 'mcu' | 'bus' | 'csPin'>> = {},
): KlipperDef {
  return {
    definition,
    mcu,
    bus,
    csPin,
    firmwarePath: 'firmware.bin', // spi_flash.py default
    currentFirmwarePath: 'firmware.cur', // spi_flash.py default
    skipVerify: false,
    requiresUniqueFwName: false,
    ...extra,
  };
}

/** FatFs-based vendor bootloaders (BTT, MKS, FYSETC): FAT12/16/32, MBR or superfloppy, no GPT, no exFAT. */
export function fatfsCard(sources: string[], extra: Partial<CardRules> = {}): Sourced<CardRules> {
  return inferred(
    { fileSystems: ['FAT12', 'FAT16', 'FAT32'], gpt: false, superfloppy: true, ...extra },
    ['BL-STRINGS', ...sources.filter((s) => s !== 'BL-STRINGS')],
    'BL-strings: FatFs with "FAT32" and no "EXFAT" string, so no exFAT; FatFs without LBA64 reads only MBR volumes or a superfloppy, so no GPT.',
  );
}

/**
 * Creality-style boards: community reports FAT32 with 4 KiB clusters on an MBR card of 16 GB
 * or less. Unverified: no vendor states it, and the cluster limit is a folk fix (it makes
 * `prepare` choose 4 KiB clusters, which is harmless), not a measured bootloader limit.
 */
export function crealityCard(sources: string[]): Sourced<CardRules> {
  return unverified(
    { fileSystems: ['FAT32'], gpt: false, maxClusterBytes: 4096, maxCardBytes: 32e9 /* 32 GB as sold: a card labelled 32 GB holds less */ },
    ['P-TH3D', ...sources.filter((s) => s !== 'P-TH3D')],
    'No vendor specification: FAT32 with a 4096-byte allocation unit on an MBR card is the community fix; TH3D advises 16 GB or smaller.',
  );
}

export const KIB = 1024;

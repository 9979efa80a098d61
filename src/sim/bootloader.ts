import type { SyncBlockDevice } from '../disk/block-device.js';
import { FatVolume, type FatEntry } from '../fat/fat-volume.js';
import { parseMbr } from '../partition/mbr.js';
import { extractKlipperDictionary, findKlipperDictionary } from '../firmware/klipper-dictionary.js';
import type { RawDictionary } from '../klipper/dictionary.js';
import type { SimFirmware } from './mcu.js';

/** What a board's stock SD bootloader does, from the board catalog. */
export interface BootloaderSpec {
  /** Folder on the card ("" = root). */
  folder: string;
  /** File name looked for (case-insensitive like FAT; "*.bin" = any .bin file). */
  firmwareName: string;
  /** What the file becomes after flashing: a new name, "deleted", or "left". */
  afterFlash: string;
  /** How the bootloader reads the card. An SDIO bootloader cannot read a card still in SPI mode. */
  bus: 'spi' | 'sdio' | 'unknown';
}

export type BootOutcome =
  | { kind: 'flashed'; file: string; renamedTo?: string; firmware: SimFirmware }
  | { kind: 'no-file' }
  | { kind: 'no-dictionary'; file: string }
  | { kind: 'card-unreadable'; reason: string }
  | { kind: 'same-name'; file: string };

/** A window of a synchronous device (the FAT partition of the card). */
class SyncWindow implements SyncBlockDevice {
  readonly name: string;
  readonly sectorSize: number;
  readonly readOnly: boolean;
  constructor(
    private readonly parent: SyncBlockDevice,
    private readonly start: number,
    readonly sectorCount: number,
  ) {
    this.name = `${parent.name}@${start}`;
    this.sectorSize = parent.sectorSize;
    this.readOnly = parent.readOnly;
  }
  readSync(lba: number, count: number, into?: Uint8Array): Uint8Array {
    return this.parent.readSync(this.start + lba, count, into);
  }
  writeSync(lba: number, data: Uint8Array): void {
    this.parent.writeSync(this.start + lba, data);
  }
  flushSync(): void {
    this.parent.flushSync();
  }
}

/** The volume a FatFs build without multi-partition support mounts: sector 0 or MBR entry 0. */
export function fatVolumeDevice(dev: SyncBlockDevice): SyncBlockDevice {
  const s0 = dev.readSync(0, 1);
  const bootSig = s0[510] === 0x55 && s0[511] === 0xaa;
  const looksVbr = (s0[0] === 0xeb || s0[0] === 0xe9) && (s0[11]! | (s0[12]! << 8)) === 512;
  if (bootSig && !looksVbr) {
    const mbr = parseMbr(s0);
    const p = mbr.entries[0];
    if (p && p.startLba + p.sectorCount <= dev.sectorCount) return new SyncWindow(dev, p.startLba, p.sectorCount);
  }
  return dev;
}

/**
 * The firmware a bootloader would flash from `image`: its embedded Klipper data dictionary
 * (found by src/firmware's finder, which also reads MKS-scrambled and Chitu files as their
 * bootloaders decode them). For a plain image the zlib bytes are served verbatim by identify.
 */
export function findEmbeddedDictionary(image: Uint8Array): SimFirmware | undefined {
  const plain = findKlipperDictionary(image);
  if (plain) {
    return { dictionary: plain.dictionary as RawDictionary, compressed: image.slice(plain.offset, plain.offset + plain.length) };
  }
  const dict = extractKlipperDictionary(image);
  return dict ? { dictionary: dict as RawDictionary } : undefined;
}

function matches(entry: FatEntry, pattern: string): boolean {
  if (entry.isDir) return false;
  const names = [entry.name, entry.shortName].filter(Boolean).map((n) => n.toLowerCase());
  const p = pattern.toLowerCase();
  if (p.startsWith('*')) return names.some((n) => n.endsWith(p.slice(1)));
  return names.includes(p);
}

/**
 * Run the bootloader's card step on `dev`: find the firmware file, "flash" it (take its
 * embedded dictionary) and rename/delete/leave it as the board's bootloader does.
 * `lastFlashed` guards boards that refuse to flash the same file name twice.
 */
export async function runBootloader(dev: SyncBlockDevice, spec: BootloaderSpec, lastFlashed?: string): Promise<BootOutcome> {
  let vol: FatVolume;
  try {
    vol = await FatVolume.mount(fatVolumeDevice(dev));
  } catch (e) {
    return { kind: 'card-unreadable', reason: (e as Error).message };
  }
  try {
    const dir = '/' + spec.folder.replace(/^\/+|\/+$/g, '');
    let entries: FatEntry[];
    try {
      entries = vol.list(dir);
    } catch {
      return { kind: 'no-file' };
    }
    const hit = entries.find((e) => matches(e, spec.firmwareName));
    if (!hit) return { kind: 'no-file' };
    const path = (dir === '/' ? '' : dir) + '/' + hit.name;
    if (spec.afterFlash === 'left' && lastFlashed && lastFlashed.toLowerCase() === hit.name.toLowerCase()) return { kind: 'same-name', file: hit.name };
    const image = vol.readFile(path);
    const firmware = findEmbeddedDictionary(image);
    if (!firmware) return { kind: 'no-dictionary', file: hit.name };
    let renamedTo: string | undefined;
    if (spec.afterFlash === 'deleted') vol.unlink(path);
    else if (spec.afterFlash !== 'left') {
      renamedTo = spec.afterFlash;
      const target = (dir === '/' ? '' : dir) + '/' + renamedTo;
      if (vol.tryStat(target)) vol.unlink(target);
      vol.rename(path, target);
    }
    return { kind: 'flashed', file: hit.name, renamedTo, firmware };
  } finally {
    vol.unmount();
    dev.flushSync();
  }
}

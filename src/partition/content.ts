import type { BlockDevice } from '../disk/block-device.js';
import { parseBootSector } from './boot-sector.js';
import { exfatDetails, fatDetails, ntfsDetails, type RootFiles, type VolumeReader } from './fat-content.js';
import { btrfsSuperblock, extSuperblock, isoVolumeDescriptor, luksHeader, lvmLabel, swapHeader, xfsSuperblock, type Signature } from './signatures.js';

export type { RootFiles } from './fat-content.js';

/**
 * What a partition (or a card without a partition table) holds now, found by signature from a
 * handful of sectors: the first 4 KiB, the ISO 9660 descriptor at 32 KiB, the btrfs superblock
 * at 64 KiB, and, when none of them says anything, a few sampled sectors to tell an erased
 * volume from one holding data. "empty" is said only when no signature and no data were found:
 * it is what the erase prompt shows before a card is wiped.
 */
export type ContentKind =
  | 'FAT12' | 'FAT16' | 'FAT32' | 'exFAT' | 'NTFS'
  | 'ext2' | 'ext3' | 'ext4' | 'swap' | 'LUKS' | 'btrfs' | 'xfs' | 'LVM2' | 'ISO9660'
  /** No signature, and every sampled sector reads as erased (all 0x00 or all 0xFF). */
  | 'empty'
  /** No signature, but data: something fwcard does not recognise (or a damaged volume). */
  | 'unknown';

export interface VolumeContent {
  fs: ContentKind;
  label: string | null;
  /** A word more: "LUKS2, encrypted", "v1, 4 KiB pages", why a FAT-looking sector is not FAT. */
  detail: string | null;
  /** Size and used space as the file system records them, when it says cheaply. */
  sizeBytes: number | null;
  usedBytes: number | null;
  /** FAT and exFAT with details: the names in the root directory. */
  files: RootFiles | null;
}

export interface ContentOptions {
  /** Also read FAT/exFAT root directories, FAT used space and the NTFS label (a few more sectors). */
  details?: boolean;
  /**
   * With details: count a FAT without FSInfo (FAT12/16) for the used space, up to 1 MiB of it
   * (default true). A card behind an MCU pays for every sector in serial round trips: there the
   * used space is left unknown rather than read at tens of seconds.
   */
  countFat?: boolean;
}

/** Sectors sampled across a volume without a signature, to tell erased from data. */
const SAMPLES = 16;
/** Swap's first page is the system's page size: 4 KiB on most machines, 16 or 64 KiB on some arm64. */
const SWAP_PAGE_SIZES = [4096, 8192, 16384, 65536];

const content = (fs: ContentKind, rest: Partial<VolumeContent> = {}): VolumeContent => ({ fs, label: null, detail: null, sizeBytes: null, usedBytes: null, files: null, ...rest });
const fromSignature = (s: Signature): VolumeContent => content(s.fs, { label: s.label, detail: s.detail, sizeBytes: s.sizeBytes, usedBytes: s.usedBytes });

/** Every byte 0x00 or every byte 0xFF: what an erased SD card or a sparse image reads as. */
export function isErased(b: Uint8Array): boolean {
  const v = b[0];
  if (v !== 0x00 && v !== 0xff) return false;
  for (let i = 1; i < b.byteLength; i++) if (b[i] !== v) return false;
  return true;
}

/** The content of the `sectors` sectors at `start` of `dev` (a partition, or the whole card). */
export async function readVolumeContent(dev: BlockDevice, start: number, sectors: number, opts: ContentOptions = {}): Promise<VolumeContent> {
  const size = Math.min(sectors, dev.sectorCount - start);
  if (start >= dev.sectorCount || size <= 0) return content('unknown', { detail: 'outside the card' });
  const read: VolumeReader = async (lba, count) => {
    const n = Math.max(0, Math.min(count, size - lba));
    return n > 0 ? dev.read(start + lba, n) : new Uint8Array(0);
  };
  // The boot sector first: a card holds FAT (or exFAT, NTFS) nearly always, and over a Klipper
  // MCU every sector read costs a link round trip's worth of bytes.
  const fs = await bootSectorContent(read, padTo(await read(0, 1), 512), size, opts);
  if (fs) return fs;
  // The first 4 KiB hold LUKS/XFS/LVM labels, the ext superblock and swap's 4 KiB page.
  const head = padTo(await read(0, 8), 4096);
  const sig = luksHeader(head) ?? xfsSuperblock(head) ?? lvmLabel(head.subarray(0, 2048)) ?? extSuperblock(head.subarray(1024, 2048)) ?? swapHeader(head, 4096);
  if (sig) return fromSignature(sig);
  for (const page of SWAP_PAGE_SIZES.slice(1)) {
    if (page / 512 > size) break;
    const last = await read(page / 512 - 1, 1);
    if (String.fromCharCode(...last.subarray(502, 512)).startsWith('SWAP')) {
      const whole = padTo(await read(0, page / 512), page);
      const swap = swapHeader(whole, page);
      if (swap) return fromSignature(swap);
    }
  }
  // ISO 9660's descriptor at 32 KiB and btrfs' superblock at 64 KiB; both count as samples too.
  const seen = [head];
  if (size >= 68) {
    const at32k = padTo(await read(64, 4), 2048);
    const iso = isoVolumeDescriptor(at32k);
    if (iso) return fromSignature(iso);
    seen.push(at32k);
  }
  if (size >= 136) {
    const at64k = padTo(await read(128, 8), 4096);
    const btrfs = btrfsSuperblock(at64k);
    if (btrfs) return fromSignature(btrfs);
    seen.push(at64k);
  }
  return (await hasData(read, seen, size)) ? content('unknown', { detail: 'no file system fwcard recognises' }) : content('empty');
}

/** FAT, exFAT and NTFS: what the boot sector says (null: not one of them). */
async function bootSectorContent(read: VolumeReader, boot: Uint8Array, size: number, opts: ContentOptions): Promise<VolumeContent | null> {
  const bs = parseBootSector(boot);
  if (bs.kind === 'fat') {
    const base = { label: bs.label && bs.label !== 'NO NAME' ? bs.label : null, sizeBytes: bs.totalSectors * bs.bytesPerSector };
    if (!opts.details || bs.bytesPerSector !== 512) return content(bs.fatType, base);
    const d = await fatDetails(read, bs, { countFat: opts.countFat ?? true });
    return content(bs.fatType, { ...base, label: d.label, files: d.files, usedBytes: d.usedBytes });
  }
  if (bs.kind === 'exFAT' || bs.kind === 'NTFS') {
    const base = { sizeBytes: bs.totalSectors !== null && bs.bytesPerSector !== null ? bs.totalSectors * bs.bytesPerSector : null };
    if (!opts.details) return content(bs.kind, base);
    const d = bs.kind === 'exFAT' ? await exfatDetails(read, boot, size) : await ntfsDetails(read, boot, size);
    return content(bs.kind, { ...base, label: d.label, files: d.files });
  }
  return null;
}

/**
 * Anything but erased sectors in what was read already (first 4 KiB, 32 KiB, 64 KiB), near the
 * start where file systems keep their metadata, or at SAMPLES points spread over the volume.
 */
async function hasData(read: VolumeReader, seen: Uint8Array[], size: number): Promise<boolean> {
  if (seen.some((b) => !isErased(b))) return true;
  const spread = Array.from({ length: SAMPLES }, (_, i) => Math.floor((size * (i + 1)) / (SAMPLES + 1)));
  for (const lba of [8, 16, 32, 256, 1024, 2048, 4096, 8192, ...spread]) {
    if (lba < 8 || lba >= size) continue;
    if (!isErased(await read(lba, 1))) return true;
  }
  return false;
}

function padTo(b: Uint8Array, n: number): Uint8Array {
  if (b.byteLength >= n) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

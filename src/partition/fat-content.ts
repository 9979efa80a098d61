import type { FatBootSector } from './boot-sector.js';
import { concatBytes } from '../util/bytes.js';

/**
 * What a FAT, exFAT or NTFS volume holds, from a handful of sectors: the names in its root
 * directory (FAT: the fixed root or the first clusters of the root chain; exFAT: the root's first
 * sectors), the used space (FAT32's FSInfo free count, or the FAT itself when it is small) and
 * the label (FAT: the root's volume-label entry; exFAT: its label entry; NTFS: the $Volume
 * record). Layouts per Microsoft's FAT specification, its exFAT specification, and the NTFS
 * on-disk format as documented by the Linux-NTFS project.
 */

/** Reads `count` sectors at `lba`, relative to the start of the volume. */
export type VolumeReader = (lba: number, count: number) => Promise<Uint8Array>;

export interface RootFiles {
  /** Names in the root directory, directories with a trailing "/", at most `MAX_NAMES`. */
  names: string[];
  /** Entries found (files and directories, no "." / ".." or deleted ones). */
  count: number;
  /** false when only the first sectors of a long root directory were read. */
  complete: boolean;
}

export interface VolumeDetails {
  label: string | null;
  files: RootFiles | null;
  usedBytes: number | null;
}

const MAX_NAMES = 8;
/** At most this many sectors of a root directory are read (32 KiB). */
const ROOT_SECTORS = 64;
/** A FAT up to this size is counted for the used space when FSInfo does not say (1 MiB). */
const FAT_COUNT_SECTORS = 2048;

const ascii = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));
const utf16 = (b: Uint8Array, o: number, chars: number): string => {
  let s = '';
  for (let i = 0; i < chars; i++) {
    const c = b[o + 2 * i]! | (b[o + 2 * i + 1]! << 8);
    if (c === 0 || c === 0xffff) break;
    s += String.fromCharCode(c);
  }
  return s;
};

function listing(names: string[], count: number, complete: boolean): RootFiles {
  return { names: names.slice(0, MAX_NAMES), count, complete };
}

/** FAT12/16/32: root directory names, label and used space. */
export async function fatDetails(read: VolumeReader, bs: FatBootSector, o: { countFat: boolean } = { countFat: true }): Promise<VolumeDetails> {
  const root = await readFatRoot(read, bs);
  const dir = parseFatDirectory(root.bytes);
  const bpbLabel = bs.label && bs.label !== 'NO NAME' ? bs.label : null;
  return { label: dir.label ?? bpbLabel, files: listing(dir.names, dir.names.length, root.complete && dir.ended), usedBytes: await fatUsedBytes(read, bs, o.countFat) };
}

/** Sectors of a root directory read at a time (4 KiB): reading stops at the end marker. */
const ROOT_CHUNK = 8;

/** An end-of-directory entry (first byte 0) in `b`. */
function endsDirectory(b: Uint8Array): boolean {
  for (let o = 0; o + 32 <= b.byteLength; o += 32) if (b[o] === 0) return true;
  return false;
}

/** `n` sectors at `lba`, a chunk at a time, stopping after the chunk that holds the end marker. */
async function readDirSectors(read: VolumeReader, lba: number, n: number, parts: Uint8Array[]): Promise<boolean> {
  for (let k = 0; k < n; k += ROOT_CHUNK) {
    const b = await read(lba + k, Math.min(ROOT_CHUNK, n - k));
    parts.push(b);
    if (endsDirectory(b)) return true;
  }
  return false;
}

async function readFatRoot(read: VolumeReader, bs: FatBootSector): Promise<{ bytes: Uint8Array; complete: boolean }> {
  const parts: Uint8Array[] = [];
  if (!bs.fat32) {
    const n = Math.min(bs.rootDirSectors, ROOT_SECTORS);
    const ended = await readDirSectors(read, bs.rootDirStart, n, parts);
    return { bytes: concatBytes(parts), complete: ended || n === bs.rootDirSectors };
  }
  // FAT32: follow the root's cluster chain, one FAT sector per hop, up to ROOT_SECTORS.
  let cluster = bs.fat32.rootCluster;
  let sectors = 0;
  const perFatSector = bs.bytesPerSector / 4;
  while (cluster >= 2 && cluster <= bs.clusterCount + 1 && sectors < ROOT_SECTORS) {
    const n = Math.min(bs.sectorsPerCluster, ROOT_SECTORS - sectors);
    if (await readDirSectors(read, bs.dataStart + (cluster - 2) * bs.sectorsPerCluster, n, parts)) return { bytes: concatBytes(parts), complete: true };
    sectors += n;
    if (n < bs.sectorsPerCluster) return { bytes: concatBytes(parts), complete: false };
    const fat = await read(bs.activeFatStart + Math.floor(cluster / perFatSector), 1);
    if (fat.byteLength < bs.bytesPerSector) return { bytes: concatBytes(parts), complete: false }; // FAT outside the partition
    cluster = new DataView(fat.buffer, fat.byteOffset).getUint32((cluster % perFatSector) * 4, true) & 0x0fffffff;
  }
  return { bytes: concatBytes(parts), complete: cluster >= 0x0ffffff8 };
}

/** Names (long names where their checksum matches), the volume label, and whether the end marker was seen. */
export function parseFatDirectory(b: Uint8Array): { names: string[]; label: string | null; ended: boolean } {
  const names: string[] = [];
  let label: string | null = null;
  let lfn: { sum: number; parts: string[] } | null = null;
  for (let o = 0; o + 32 <= b.byteLength; o += 32) {
    const first = b[o]!;
    if (first === 0x00) return { names, label, ended: true };
    const attr = b[o + 11]!;
    if (first === 0xe5) {
      lfn = null;
      continue;
    }
    if ((attr & 0x3f) === 0x0f) {
      const seq = first & 0x1f;
      if (first & 0x40) lfn = { sum: b[o + 13]!, parts: [] };
      if (lfn && seq >= 1) lfn.parts[seq - 1] = lfnChars(b, o);
      continue;
    }
    const short = ascii(b, o, 11);
    if (attr & 0x08) {
      if (!(attr & 0x10) && label === null) label = short.trimEnd() || null;
      lfn = null;
      continue;
    }
    if (short === '.          ' || short === '..         ') {
      lfn = null;
      continue;
    }
    let sum = 0;
    for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + b[o + i]!) & 0xff;
    const long = lfn && lfn.sum === sum && Array.from(lfn.parts).every((p) => p !== undefined) ? lfn.parts.join('') : null;
    lfn = null;
    names.push((long ?? shortName(b, o)) + (attr & 0x10 ? '/' : ''));
  }
  return { names, label, ended: false };
}

/** The 13 characters of a long-name entry, up to the terminator. */
function lfnChars(b: Uint8Array, o: number): string {
  let s = '';
  for (const [off, n] of [[1, 5], [14, 6], [28, 2]] as const) {
    for (let i = 0; i < n; i++) {
      const c = b[o + off + 2 * i]! | (b[o + off + 2 * i + 1]! << 8);
      if (c === 0 || c === 0xffff) return s;
      s += String.fromCharCode(c);
    }
  }
  return s;
}

/** An 8.3 name as Windows shows it (NT lower-case flags at byte 12 honoured). */
function shortName(b: Uint8Array, o: number): string {
  let base = ascii(b, o, 8).trimEnd();
  let ext = ascii(b, o + 8, 3).trimEnd();
  if (base.startsWith('\x05')) base = '\xe5' + base.slice(1);
  if (b[o + 12]! & 0x08) base = base.toLowerCase();
  if (b[o + 12]! & 0x10) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

async function fatUsedBytes(read: VolumeReader, bs: FatBootSector, countFat: boolean): Promise<number | null> {
  if (bs.fat32 && bs.fat32.fsInfoSector > 0 && bs.fat32.fsInfoSector < bs.reservedSectors) {
    const fi = await read(bs.fat32.fsInfoSector, 1);
    const dv = new DataView(fi.buffer, fi.byteOffset, fi.byteLength);
    const free = dv.getUint32(488, true);
    if (dv.getUint32(0, true) === 0x41615252 && dv.getUint32(484, true) === 0x61417272 && free <= bs.clusterCount) {
      return (bs.clusterCount - free) * bs.clusterBytes;
    }
  }
  if (!countFat || bs.sectorsPerFat > FAT_COUNT_SECTORS) return null;
  const fat = await read(bs.activeFatStart, bs.sectorsPerFat);
  if (fat.byteLength < bs.sectorsPerFat * bs.bytesPerSector) return null; // the FAT runs past the partition
  const dv = new DataView(fat.buffer, fat.byteOffset, fat.byteLength);
  let used = 0;
  // A FAT too small for its cluster count (a damaged BPB) is counted as far as it goes.
  const entries = Math.floor((fat.byteLength * 8) / (bs.fatType === 'FAT32' ? 32 : bs.fatType === 'FAT16' ? 16 : 12)) - 1;
  for (let c = 2; c < Math.min(bs.clusterCount + 2, entries); c++) {
    let v: number;
    if (bs.fatType === 'FAT32') v = dv.getUint32(c * 4, true) & 0x0fffffff;
    else if (bs.fatType === 'FAT16') v = dv.getUint16(c * 2, true);
    else {
      const o = Math.floor((c * 3) / 2);
      const pair = fat[o]! | (fat[o + 1]! << 8);
      v = c & 1 ? pair >> 4 : pair & 0x0fff;
    }
    if (v !== 0) used++;
  }
  return used * bs.clusterBytes;
}

/** exFAT: label and root names from the first sectors of the root directory. */
export async function exfatDetails(read: VolumeReader, boot: Uint8Array, volumeSectors: number): Promise<VolumeDetails> {
  const dv = new DataView(boot.buffer, boot.byteOffset, boot.byteLength);
  const heap = dv.getUint32(88, true);
  const rootCluster = dv.getUint32(96, true);
  const spcShift = boot[109]!;
  const bpsShift = boot[108]!;
  if (bpsShift !== 9 || spcShift > 25 || rootCluster < 2) return { label: null, files: null, usedBytes: null };
  const spc = 2 ** spcShift;
  const at = heap + (rootCluster - 2) * spc;
  const n = Math.min(spc, 8);
  if (at + n > volumeSectors) return { label: null, files: null, usedBytes: null };
  const b = await read(at, n);
  let label: string | null = null;
  const names: string[] = [];
  let ended = false;
  for (let o = 0; o + 32 <= b.byteLength; o += 32) {
    const type = b[o]!;
    if (type === 0x00) {
      ended = true;
      break;
    }
    if (type === 0x83) label = utf16(b, o + 2, Math.min(b[o + 1]!, 11)) || null;
    if (type === 0x85) {
      // File entry, then a stream extension (name length) and name entries of 15 characters.
      const secondaries = b[o + 1]!;
      const dir = (b[o + 4]! & 0x10) !== 0;
      const nameLen = o + 64 <= b.byteLength ? b[o + 32 + 3]! : 0;
      let name = '';
      for (let k = 2; k <= secondaries && o + 32 * k + 32 <= b.byteLength; k++) name += utf16(b, o + 32 * k + 2, 15);
      names.push(name.slice(0, nameLen) + (dir ? '/' : ''));
      o += 32 * secondaries;
    }
  }
  return { label, files: listing(names, names.length, ended && n === spc), usedBytes: null };
}

/** NTFS: the label from the $Volume file (MFT record 3). */
export async function ntfsDetails(read: VolumeReader, boot: Uint8Array, volumeSectors: number): Promise<VolumeDetails> {
  const none = { label: null, files: null, usedBytes: null };
  const dv = new DataView(boot.buffer, boot.byteOffset, boot.byteLength);
  const bps = dv.getUint16(11, true);
  const spcRaw = boot[13]!;
  if (bps !== 512) return none;
  const clusterBytes = bps * (spcRaw > 0x80 ? 2 ** (256 - spcRaw) : spcRaw);
  const mftCluster = Number(dv.getBigUint64(48, true));
  const perRecord = dv.getInt8(64);
  const recordBytes = perRecord > 0 ? perRecord * clusterBytes : 2 ** -perRecord;
  if (!clusterBytes || recordBytes < 512 || recordBytes > 65536) return none;
  const lba = (mftCluster * clusterBytes + 3 * recordBytes) / bps;
  const n = recordBytes / bps;
  if (!Number.isInteger(lba) || lba + n > volumeSectors) return none;
  const rec = await read(lba, n);
  if (ascii(rec, 0, 4) !== 'FILE') return none;
  const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  // Update sequence: the last two bytes of each sector are stored in the array at usaOffset.
  const usaOffset = rv.getUint16(4, true);
  const usaCount = rv.getUint16(6, true);
  for (let i = 1; i < usaCount && i * bps <= rec.byteLength; i++) {
    rec[i * bps - 2] = rec[usaOffset + 2 * i]!;
    rec[i * bps - 1] = rec[usaOffset + 2 * i + 1]!;
  }
  for (let o = rv.getUint16(20, true); o + 24 <= rec.byteLength; ) {
    const type = rv.getUint32(o, true);
    const len = rv.getUint32(o + 4, true);
    if (type === 0xffffffff || len < 24) break;
    if (type === 0x60 && rec[o + 8] === 0) {
      const valueLen = rv.getUint32(o + 16, true);
      const valueOff = rv.getUint16(o + 20, true);
      return { label: utf16(rec, o + valueOff, valueLen / 2) || null, files: null, usedBytes: null };
    }
    o += len;
  }
  return none;
}


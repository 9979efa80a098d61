import type { SyncBlockDevice } from '../disk/block-device.js';
import { UsageError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { noProgress } from '../progress.js';
import { buildMbr } from '../partition/mbr.js';
import type { Layout } from './layout.js';

export interface FormatOptions {
  /** Volume label, up to 11 characters; default "NO NAME". */
  label?: string;
  /** Volume serial number; default derived from the clock, as DOS does. */
  volumeId?: number;
  /** Every sector of the device reads as zero already (a freshly created sparse image). */
  knownZero?: boolean;
  onProgress?: ProgressListener;
}

/** Characters allowed in a FAT volume label (short-name rules, upper case). */
const LABEL_RE = /^[A-Z0-9 !#$%&'()\-@^_`{}~]{1,11}$/;

export function normalizeLabel(label: string | undefined): string {
  if (label === undefined) return 'NO NAME';
  const up = label.toUpperCase();
  if (!LABEL_RE.test(up) || up.trim() === '') {
    throw new UsageError('bad-label', `volume label "${label}" is not a valid FAT label`, {
      hint: 'Use up to 11 letters, digits, spaces or - _ characters, e.g. --label FIRMWARE.',
    });
  }
  return up;
}

const ZERO_CHUNK_SECTORS = 2048; // 1 MiB of zeros per write when clearing FATs on a real device

/**
 * Write the MBR (unless superfloppy), boot sector(s), FSInfo, both FATs and the root
 * directory for `layout`. Only the structures a format needs are written: the data area is
 * never touched, and on a known-zero target the all-zero FAT sectors are skipped too.
 */
export function writeFatVolume(dev: SyncBlockDevice, layout: Layout, opts: FormatOptions = {}): void {
  const ss = layout.sectorSize;
  const label = normalizeLabel(opts.label);
  const volumeId = (opts.volumeId ?? dosVolumeId(new Date())) >>> 0;
  const progress = opts.onProgress ?? noProgress;
  const base = layout.partitionStart;
  const fatStart = base + layout.reservedSectors;
  const fatBytesTotal = layout.sectorsPerFat * layout.fatCount * ss;
  const zeroBytes = opts.knownZero ? 0 : fatBytesTotal;
  const total = zeroBytes + 16 * ss;
  let done = 0;
  const tick = (n: number) => {
    done += n;
    progress({ phase: 'format', label: `writing ${layout.fsType} structures`, bytes: done, total });
  };

  if (!opts.knownZero) {
    // Clear what stale structures could confuse readers: the gap before the partition (old GPT
    // header and entries, old boot sectors) and the new reserved area.
    clearRange(dev, 1, Math.min(base, 64), tick, false);
    clearRange(dev, base, layout.reservedSectors, tick, false);
    // An old GPT keeps a backup header in the last sector; remove it so no tool sees GPT.
    clearRange(dev, dev.sectorCount - 1, 1, tick, false);
  }

  // 1. FATs: zero them first (on a device that may hold old data), then set the reserved entries.
  if (!opts.knownZero) {
    clearRange(dev, fatStart, layout.sectorsPerFat * layout.fatCount, tick, true);
  }
  const fat0 = new Uint8Array(ss);
  const fdv = new DataView(fat0.buffer);
  if (layout.fsType === 'FAT32') {
    fdv.setUint32(0, 0x0ffffff8, true); // media descriptor F8 in the low byte
    fdv.setUint32(4, 0x0fffffff, true); // clean-shutdown and no-error bits set
    fdv.setUint32(8, 0x0fffffff, true); // cluster 2: the root directory, one cluster, end of chain
  } else {
    fdv.setUint16(0, 0xfff8, true);
    fdv.setUint16(2, 0xffff, true);
  }
  for (let i = 0; i < layout.fatCount; i++) dev.writeSync(fatStart + i * layout.sectorsPerFat, fat0);
  tick(ss * layout.fatCount);

  // 2. Root directory: the FAT16 fixed region, or cluster 2 on FAT32; the label entry first.
  const rootStart = fatStart + layout.fatCount * layout.sectorsPerFat;
  const rootSectors = layout.fsType === 'FAT32' ? layout.sectorsPerCluster : layout.rootDirSectors;
  if (!opts.knownZero) clearRange(dev, rootStart, rootSectors, tick, false);
  if (label !== 'NO NAME') {
    const dir = new Uint8Array(ss);
    dir.set(new TextEncoder().encode(label.padEnd(11, ' ')), 0);
    dir[11] = 0x08; // ATTR_VOLUME_ID
    const { date, time } = dosDateTime(new Date());
    const ddv = new DataView(dir.buffer);
    ddv.setUint16(22, time, true);
    ddv.setUint16(24, date, true);
    dev.writeSync(rootStart, dir);
  }

  // 3. Boot sector (+ FSInfo and backups on FAT32).
  const boot = buildBootSector(layout, label, volumeId);
  if (layout.fsType === 'FAT32') {
    // Next-free hint 2: FatFs (like Windows) starts searching after it, so files begin at cluster 3.
    const fsinfo = buildFsInfo(ss, layout.clusterCount - 1, 2);
    // Write backups first and the primary boot sector last: a volume interrupted before the
    // last write has no valid boot sector rather than a half-written one.
    dev.writeSync(base + 6, boot);
    dev.writeSync(base + 7, fsinfo);
    dev.writeSync(base + 1, fsinfo);
  }
  dev.writeSync(base, boot);
  tick(ss * 4);

  // 4. MBR last: until it is written, no reader finds the new partition.
  if (layout.mbr) {
    const mbr = buildMbr({
      diskSignature: volumeId ^ 0x5a5aa5a5,
      entries: [{ type: layout.partitionType, startLba: layout.partitionStart, sectorCount: layout.partitionSectors }],
    });
    dev.writeSync(0, mbr);
  }
  tick(ss);
  progress({ phase: 'format', label: `writing ${layout.fsType} structures`, bytes: total, total, done: true });
}

function clearRange(dev: SyncBlockDevice, start: number, count: number, tick: (n: number) => void, counted: boolean): void {
  const chunk = new Uint8Array(Math.min(count, ZERO_CHUNK_SECTORS) * dev.sectorSize);
  let lba = start;
  const end = start + count;
  while (lba < end) {
    const n = Math.min(ZERO_CHUNK_SECTORS, end - lba);
    dev.writeSync(lba, n * dev.sectorSize === chunk.byteLength ? chunk : chunk.subarray(0, n * dev.sectorSize));
    if (counted) tick(n * dev.sectorSize);
    lba += n;
  }
}

/** Boot sector with BPB, per Microsoft's FAT specification (FAT16 and FAT32 variants). */
export function buildBootSector(l: Layout, label: string, volumeId: number): Uint8Array {
  const s = new Uint8Array(l.sectorSize);
  const dv = new DataView(s.buffer);
  const fat32 = l.fsType === 'FAT32';
  // Jump over the BPB to the boot code; the offset differs because the FAT32 BPB is longer.
  s.set(fat32 ? [0xeb, 0x58, 0x90] : [0xeb, 0x3c, 0x90], 0);
  // "MSWIN4.1" is the OEM name Microsoft's spec recommends for the widest compatibility.
  s.set(new TextEncoder().encode('MSWIN4.1'), 3);
  dv.setUint16(11, l.sectorSize, true);
  s[13] = l.sectorsPerCluster;
  dv.setUint16(14, l.reservedSectors, true);
  s[16] = l.fatCount;
  dv.setUint16(17, l.rootEntries, true);
  const small = !fat32 && l.partitionSectors < 0x10000;
  dv.setUint16(19, small ? l.partitionSectors : 0, true);
  s[21] = 0xf8; // fixed media
  dv.setUint16(22, fat32 ? 0 : l.sectorsPerFat, true);
  dv.setUint16(24, 63, true); // sectors per track (the usual LBA-translated geometry)
  dv.setUint16(26, 255, true); // heads
  dv.setUint32(28, l.partitionStart, true); // hidden sectors = partition offset
  dv.setUint32(32, small ? 0 : l.partitionSectors, true);
  let o: number;
  if (fat32) {
    dv.setUint32(36, l.sectorsPerFat, true);
    dv.setUint16(40, 0, true); // FAT mirroring on
    dv.setUint16(42, 0, true); // version 0.0
    dv.setUint32(44, 2, true); // root directory cluster
    dv.setUint16(48, 1, true); // FSInfo sector
    dv.setUint16(50, 6, true); // backup boot sector
    o = 64;
  } else {
    o = 36;
  }
  s[o] = 0x80; // drive number
  s[o + 2] = 0x29; // extended boot signature: the next three fields are valid
  dv.setUint32(o + 3, volumeId, true);
  s.set(new TextEncoder().encode(label.padEnd(11, ' ')), o + 7);
  s.set(new TextEncoder().encode(fat32 ? 'FAT32   ' : 'FAT16   '), o + 18);
  // Boot code: print nothing, just hang (int 18h: "no bootable disk") if a PC tries to boot it.
  const code = o + 26;
  s.set([0xcd, 0x18, 0xeb, 0xfe], code);
  s[510] = 0x55;
  s[511] = 0xaa;
  return s;
}

export function buildFsInfo(sectorSize: number, freeClusters: number, nextFree: number): Uint8Array {
  const s = new Uint8Array(sectorSize);
  const dv = new DataView(s.buffer);
  dv.setUint32(0, 0x41615252, true);
  dv.setUint32(484, 0x61417272, true);
  dv.setUint32(488, freeClusters, true);
  dv.setUint32(492, nextFree, true);
  dv.setUint32(508, 0xaa550000, true);
  return s;
}

export function dosDateTime(d: Date): { date: number; time: number } {
  const date = ((Math.max(1980, d.getFullYear()) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2);
  return { date, time };
}

function dosVolumeId(d: Date): number {
  const { date, time } = dosDateTime(d);
  return ((date << 16) | time) ^ (d.getMilliseconds() * 0x10001);
}

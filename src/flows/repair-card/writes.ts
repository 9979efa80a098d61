import { buildBootSector, buildFsInfo, dosDateTime, normalizeLabel } from '../../fat/format.js';
import type { Layout } from '../../fat/layout.js';
import { buildMbr } from '../../partition/mbr.js';
import type { SectorRange } from './layout.js';

/**
 * The writes of a repair, in the order they reach the card (see plan.ts for why this order):
 * 1. `volume`: the new volume's FATs and root directory (zeroed, then their first sectors), then
 *    on FAT32 the backup boot sector and FSInfo, and the boot sector. None of this is reachable
 *    from the card's current partition table: the sectors were chosen clear of it (layout.ts).
 * 2. `table`: the MBR, one sector, the switch from the old card to the new one.
 * 3. `cleanup`: what would still make a reader see the old card: a GPT's headers.
 * Every write is whole sectors with fixed contents, so writing them again is harmless: a re-run
 * completes an interrupted repair by writing the rest again (record.ts).
 */
export type RepairPhase = 'volume' | 'table' | 'cleanup';

export interface RepairWrite {
  phase: RepairPhase;
  lba: number;
  /** Sectors written; `data` is null for zeros. */
  count: number;
  data: Uint8Array | null;
  what: string;
}

/** Zeros go out in pieces of at most this many sectors (128 KiB): each is one write. */
const ZERO_PIECE = 256;

export interface RepairWriteOptions {
  label: string;
  volumeId: number;
  now: Date;
  /** Sectors to zero after the MBR (a GPT's primary and backup headers). */
  cleanup: SectorRange[];
}

export function repairWrites(l: Layout, o: RepairWriteOptions): RepairWrite[] {
  const ss = l.sectorSize;
  const label = normalizeLabel(o.label);
  const base = l.partitionStart;
  const fatStart = base + l.reservedSectors;
  const rootStart = fatStart + l.fatCount * l.sectorsPerFat;
  const rootSectors = l.fsType === 'FAT32' ? l.sectorsPerCluster : l.rootDirSectors;
  const out: RepairWrite[] = [];
  const zero = (phase: RepairPhase, start: number, count: number, what: string) => {
    for (let lba = start; lba < start + count; lba += ZERO_PIECE) out.push({ phase, lba, count: Math.min(ZERO_PIECE, start + count - lba), data: null, what });
  };
  // FATs and the root directory are one run of sectors on both FAT types (FAT32's root is cluster 2,
  // the first of the data area). The reserved area between the boot sector and the FATs is not
  // cleared: nothing reads it but the FSInfo and backup boot sectors written below.
  zero('volume', fatStart, rootStart + rootSectors - fatStart, 'FATs and root directory (zeros)');
  const fat0 = new Uint8Array(ss);
  const fdv = new DataView(fat0.buffer);
  if (l.fsType === 'FAT32') {
    fdv.setUint32(0, 0x0ffffff8, true);
    fdv.setUint32(4, 0x0fffffff, true);
    fdv.setUint32(8, 0x0fffffff, true); // cluster 2: the root directory, end of chain
  } else {
    fdv.setUint16(0, 0xfff8, true);
    fdv.setUint16(2, 0xffff, true);
  }
  for (let i = 0; i < l.fatCount; i++) out.push({ phase: 'volume', lba: fatStart + i * l.sectorsPerFat, count: 1, data: fat0, what: `FAT ${i + 1}, first sector` });
  if (label !== 'NO NAME') {
    const dir = new Uint8Array(ss);
    dir.set(new TextEncoder().encode(label.padEnd(11, ' ')), 0);
    dir[11] = 0x08; // ATTR_VOLUME_ID
    const { date, time } = dosDateTime(o.now);
    const ddv = new DataView(dir.buffer);
    ddv.setUint16(22, time, true);
    ddv.setUint16(24, date, true);
    out.push({ phase: 'volume', lba: rootStart, count: 1, data: dir, what: 'root directory (volume label)' });
  }
  const boot = buildBootSector(l, label, o.volumeId >>> 0);
  if (l.fsType === 'FAT32') {
    const fsinfo = buildFsInfo(ss, l.clusterCount - 1, 2);
    out.push({ phase: 'volume', lba: base + 6, count: 1, data: boot, what: 'backup boot sector' });
    out.push({ phase: 'volume', lba: base + 7, count: 1, data: fsinfo, what: 'backup FSInfo' });
    out.push({ phase: 'volume', lba: base + 1, count: 1, data: fsinfo, what: 'FSInfo' });
  }
  out.push({ phase: 'volume', lba: base, count: 1, data: boot, what: 'boot sector' });
  const mbr = buildMbr({ diskSignature: (o.volumeId ^ 0x5a5aa5a5) >>> 0, entries: [{ type: l.partitionType, startLba: base, sectorCount: l.partitionSectors }] });
  out.push({ phase: 'table', lba: 0, count: 1, data: mbr, what: 'MBR (the new partition table)' });
  for (const r of o.cleanup) zero('cleanup', r.start, r.count, 'old GPT header (zeros)');
  return out;
}

/** Sectors and bytes the writes send. */
export function writeVolume(writes: RepairWrite[]): { writes: number; bytes: number } {
  return { writes: writes.length, bytes: writes.reduce((n, w) => n + w.count * 512, 0) };
}

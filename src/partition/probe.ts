import type { BlockDevice } from '../disk/block-device.js';
import { parseBootSector } from './boot-sector.js';
import { parseMbr, partitionTypeName } from './mbr.js';

/**
 * A quick look at what is on a card now: partition table kind, partitions and the file system
 * in each. Reads a handful of sectors. Used to show what `prepare` will destroy; `check` digs
 * deeper.
 */
export type FsKind = 'FAT12' | 'FAT16' | 'FAT32' | 'exFAT' | 'NTFS' | 'empty' | 'unknown';

export interface ProbedPartition {
  index: number;
  start: number;
  sectors: number;
  type: number;
  typeName: string;
  fs: FsKind;
  label: string | null;
}

export interface CardProbe {
  table: 'mbr' | 'gpt' | 'none';
  /** File system at sector 0 on a partitionless card. */
  superfloppyFs: FsKind | null;
  partitions: ProbedPartition[];
}

/** Identify a file system from its first sector (boot sector / VBR), with parseBootSector's rules. */
export function detectFileSystem(boot: Uint8Array): { fs: FsKind; label: string | null } {
  const bs = parseBootSector(boot);
  return bs.kind === 'fat' ? { fs: bs.fatType, label: bs.label } : { fs: bs.kind, label: null };
}

export async function probeCard(dev: BlockDevice): Promise<CardProbe> {
  const s0 = await dev.read(0, 1);
  const mbr = parseMbr(s0);
  const own = detectFileSystem(s0);
  // A FAT boot sector also ends in 0x55AA: it is a superfloppy when its BPB is valid and the
  // "partition entries" do not make sense as such.
  if (own.fs === 'FAT12' || own.fs === 'FAT16' || own.fs === 'FAT32' || own.fs === 'exFAT' || own.fs === 'NTFS') {
    return { table: 'none', superfloppyFs: own.fs, partitions: [] };
  }
  if (!mbr.signature) return { table: 'none', superfloppyFs: own.fs === 'empty' ? 'empty' : 'unknown', partitions: [] };
  if (mbr.entries.some((e) => e.type === 0xee)) {
    const partitions: ProbedPartition[] = [];
    if (dev.sectorCount > 2) {
      const hdr = await dev.read(1, 1);
      if (String.fromCharCode(...hdr.subarray(0, 8)) === 'EFI PART') {
        const dv = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
        const entriesLba = Number(dv.getBigUint64(72, true));
        const count = Math.min(dv.getUint32(80, true), 128);
        const size = dv.getUint32(84, true);
        const sectorsNeeded = Math.ceil((count * size) / dev.sectorSize);
        if (size >= 128 && entriesLba + sectorsNeeded <= dev.sectorCount) {
          const arr = await dev.read(entriesLba, sectorsNeeded);
          const adv = new DataView(arr.buffer, arr.byteOffset, arr.byteLength);
          for (let i = 0; i < count; i++) {
            const o = i * size;
            if (arr.subarray(o, o + 16).every((b) => b === 0)) continue;
            const first = Number(adv.getBigUint64(o + 32, true));
            const last = Number(adv.getBigUint64(o + 40, true));
            const fs = first < dev.sectorCount ? detectFileSystem(await dev.read(first, 1)) : { fs: 'unknown' as FsKind, label: null };
            partitions.push({ index: i, start: first, sectors: last - first + 1, type: 0xee, typeName: 'GPT partition', fs: fs.fs, label: fs.label });
          }
        }
      }
    }
    return { table: 'gpt', superfloppyFs: null, partitions };
  }
  const partitions: ProbedPartition[] = [];
  for (const e of mbr.entries) {
    const inside = e.startLba < dev.sectorCount ? detectFileSystem(await dev.read(e.startLba, 1)) : { fs: 'unknown' as FsKind, label: null };
    partitions.push({ index: e.index, start: e.startLba, sectors: e.sectorCount, type: e.type, typeName: partitionTypeName(e.type), fs: inside.fs, label: inside.label });
  }
  return { table: 'mbr', superfloppyFs: null, partitions };
}

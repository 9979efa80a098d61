import type { BlockDevice } from '../disk/block-device.js';
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

/** Identify a file system from its first sector (boot sector / VBR). */
export function detectFileSystem(boot: Uint8Array): { fs: FsKind; label: string | null } {
  const ascii = (o: number, n: number) => String.fromCharCode(...boot.subarray(o, o + n));
  if (boot.every((b) => b === 0)) return { fs: 'empty', label: null };
  if (ascii(3, 8) === 'EXFAT   ') return { fs: 'exFAT', label: null };
  if (ascii(3, 8) === 'NTFS    ') return { fs: 'NTFS', label: null };
  const dv = new DataView(boot.buffer, boot.byteOffset, boot.byteLength);
  const bps = dv.getUint16(11, true);
  const spc = boot[13]!;
  const rsv = dv.getUint16(14, true);
  const nfats = boot[16]!;
  const rootEnt = dv.getUint16(17, true);
  const tot16 = dv.getUint16(19, true);
  const fat16 = dv.getUint16(22, true);
  const tot32 = dv.getUint32(32, true);
  const fat32 = dv.getUint32(36, true);
  const validBpb = [512, 1024, 2048, 4096].includes(bps) && spc > 0 && (spc & (spc - 1)) === 0 && rsv > 0 && nfats > 0 && boot[510] === 0x55 && boot[511] === 0xaa;
  if (!validBpb) return { fs: 'unknown', label: null };
  const fatSz = fat16 || fat32;
  const total = tot16 || tot32;
  const rootSectors = Math.ceil((rootEnt * 32) / bps);
  const dataSectors = total - (rsv + nfats * fatSz + rootSectors);
  if (fatSz === 0 || dataSectors <= 0) return { fs: 'unknown', label: null };
  // Microsoft FAT specification: the FAT type is decided by the cluster count alone.
  const clusters = Math.floor(dataSectors / spc);
  const fs: FsKind = clusters < 4085 ? 'FAT12' : clusters < 65525 ? 'FAT16' : 'FAT32';
  const labelOffset = fs === 'FAT32' ? 71 : 43;
  const sig = boot[fs === 'FAT32' ? 66 : 38];
  const label = sig === 0x29 ? ascii(labelOffset, 11).trimEnd() : null;
  return { fs, label };
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

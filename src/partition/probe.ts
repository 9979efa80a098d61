import type { BlockDevice } from '../disk/block-device.js';
import { parseBootSector } from './boot-sector.js';
import { readVolumeContent, type ContentKind, type ContentOptions, type VolumeContent } from './content.js';
import { readGpt } from './gpt.js';
import { parseMbr, partitionTypeName } from './mbr.js';
import { luksHeader, xfsSuperblock } from './signatures.js';

/**
 * A quick look at what is on a card now: partition table kind, partitions and what each holds
 * (content.ts: by signature, a handful of sectors each). Used to show what `prepare` will
 * destroy and what `check` found; `check` digs deeper into the FAT volume.
 */
export type FsKind = ContentKind;

export interface ProbedPartition {
  /** MBR slot 0-3 (4+ for logical partitions), or the GPT entry index. */
  index: number;
  start: number;
  sectors: number;
  /** MBR type byte; 0xEE for every GPT partition (see typeGuid). */
  type: number;
  /** MBR type name, or the GPT type GUID's name. */
  typeName: string;
  typeGuid: string | null;
  /** GPT partition name, or null. */
  name: string | null;
  fs: FsKind;
  label: string | null;
  content: VolumeContent;
}

export interface CardProbe {
  table: 'mbr' | 'gpt' | 'none';
  /** File system at sector 0 on a partitionless card. */
  superfloppyFs: FsKind | null;
  /** What the whole card holds when it has no partition table. */
  whole: VolumeContent | null;
  partitions: ProbedPartition[];
  /** Logical partitions inside an MBR extended partition. */
  logical: ProbedPartition[];
  /** GPT: the "EFI PART" header was found (a protective MBR alone lists no partitions). */
  gptHeader: boolean | null;
}

/** MBR types that hold more partitions, not a file system. */
export const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);

/** Identify a file system from its first sector (boot sector / VBR), with parseBootSector's rules. */
export function detectFileSystem(boot: Uint8Array): { fs: FsKind; label: string | null } {
  const bs = parseBootSector(boot);
  return bs.kind === 'fat' ? { fs: bs.fatType, label: bs.label } : { fs: bs.kind, label: null };
}

export async function probeCard(dev: BlockDevice, opts: ContentOptions = {}): Promise<CardProbe> {
  const s0 = await dev.read(0, 1);
  const mbr = parseMbr(s0);
  const own = parseBootSector(s0).kind;
  // A FAT boot sector also ends in 0x55AA: it is a superfloppy when its BPB is valid. LUKS and
  // XFS start at byte 0 too, and their headers may happen to hold 0x55AA at 510.
  const volumeAtZero = own === 'fat' || own === 'exFAT' || own === 'NTFS' || luksHeader(s0) !== null || xfsSuperblock(s0) !== null;
  if (volumeAtZero || !mbr.signature) {
    const whole = await readVolumeContent(dev, 0, dev.sectorCount, opts);
    return { table: 'none', superfloppyFs: whole.fs, whole, partitions: [], logical: [], gptHeader: null };
  }
  if (mbr.entries.some((e) => e.type === 0xee)) {
    const gpt = await readGpt(dev);
    const partitions: ProbedPartition[] = [];
    for (const e of gpt.entries) {
      const content = await readVolumeContent(dev, e.start, e.sectors, opts);
      partitions.push({ index: e.index, start: e.start, sectors: e.sectors, type: 0xee, typeName: e.typeName, typeGuid: e.typeGuid, name: e.name, fs: content.fs, label: content.label, content });
    }
    return { table: 'gpt', superfloppyFs: null, whole: null, partitions, logical: [], gptHeader: gpt.header };
  }
  const partitions: ProbedPartition[] = [];
  const logical: ProbedPartition[] = [];
  for (const e of mbr.entries) {
    const extended = EXTENDED_TYPES.has(e.type);
    const content = extended
      ? { fs: 'unknown' as const, label: null, detail: 'extended partition (holds logical partitions)', sizeBytes: null, usedBytes: null, files: null }
      : await readVolumeContent(dev, e.startLba, e.sectorCount, opts);
    partitions.push(mbrPartition(e.index, e.startLba, e.sectorCount, e.type, content));
    if (extended) logical.push(...(await logicalPartitions(dev, e.startLba, opts)));
  }
  return { table: 'mbr', superfloppyFs: null, whole: null, partitions, logical, gptHeader: null };
}

function mbrPartition(index: number, start: number, sectors: number, type: number, content: VolumeContent): ProbedPartition {
  return { index, start, sectors, type, typeName: partitionTypeName(type), typeGuid: null, name: null, fs: content.fs, label: content.label, content };
}

/** Follow the chain of extended boot records (at most 64 links). */
async function logicalPartitions(dev: BlockDevice, extStart: number, opts: ContentOptions): Promise<ProbedPartition[]> {
  const out: ProbedPartition[] = [];
  let ebr = extStart;
  for (let n = 0; n < 64 && ebr > 0 && ebr < dev.sectorCount; n++) {
    const m = parseMbr(await dev.read(ebr, 1));
    if (!m.signature) break;
    const data = m.entries.find((e) => !EXTENDED_TYPES.has(e.type));
    if (data) out.push(mbrPartition(4 + n, ebr + data.startLba, data.sectorCount, data.type, await readVolumeContent(dev, ebr + data.startLba, data.sectorCount, opts)));
    const next = m.entries.find((e) => EXTENDED_TYPES.has(e.type));
    ebr = next ? extStart + next.startLba : 0;
  }
  return out;
}

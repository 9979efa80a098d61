import type { FatBootSector } from '../../partition/boot-sector.js';
import type { SectorReader } from './sector-reader.js';

/** What a FAT entry means (Microsoft FAT specification, "FAT Data Structure"). */
export type EntryKind = 'free' | 'next' | 'eoc' | 'bad' | 'reserved';

export interface ChainWalk {
  clusters: number[];
  /** Why the walk stopped. */
  end: 'eoc' | 'free' | 'bad' | 'reserved' | 'out-of-range' | 'loop' | 'limit';
  /** The entry value that ended it (for messages). */
  lastValue: number;
}

/**
 * Reads FAT entries one at a time from the active FAT, touching only the FAT sectors the
 * walked chains live in. Never reads the whole table.
 */
export class FatTable {
  readonly bits: 12 | 16 | 32;
  private readonly eocMin: number;
  private readonly bad: number;

  constructor(
    private readonly reader: SectorReader,
    readonly bs: FatBootSector,
    /** First sector of the FAT copy to read (default: the active FAT). */
    private readonly fatStart = bs.activeFatStart,
  ) {
    this.bits = bs.fatType === 'FAT12' ? 12 : bs.fatType === 'FAT16' ? 16 : 32;
    this.eocMin = this.bits === 12 ? 0xff8 : this.bits === 16 ? 0xfff8 : 0x0ffffff8;
    this.bad = this.bits === 12 ? 0xff7 : this.bits === 16 ? 0xfff7 : 0x0ffffff7;
  }

  /** FAT sectors (relative to the FAT start) holding the entry of `cluster`. */
  sectorsOf(cluster: number): number[] {
    const bps = this.bs.bytesPerSector;
    const off = this.byteOffset(cluster);
    const first = Math.floor(off / bps);
    const lastByte = off + (this.bits === 12 ? 1 : this.bits / 8 - 1);
    const last = Math.floor(lastByte / bps);
    return first === last ? [first] : [first, last];
  }

  private byteOffset(cluster: number): number {
    return this.bits === 12 ? cluster + (cluster >> 1) : (cluster * this.bits) / 8;
  }

  /** Raw value of the FAT entry of `cluster` (28 bits on FAT32). */
  async get(cluster: number): Promise<number> {
    const bps = this.bs.bytesPerSector;
    const off = this.byteOffset(cluster);
    const sec = Math.floor(off / bps);
    const within = off % bps;
    if (this.bits === 12) {
      // A FAT12 entry can straddle two sectors.
      const need = within === bps - 1 ? 2 : 1;
      const buf = await this.reader.read(this.fatStart + sec, need);
      const v = buf[within]! | (buf[within + 1]! << 8);
      return cluster & 1 ? v >> 4 : v & 0xfff;
    }
    const buf = await this.reader.read(this.fatStart + sec, 1);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return this.bits === 16 ? dv.getUint16(within, true) : dv.getUint32(within, true) & 0x0fffffff;
  }

  kind(value: number): EntryKind {
    if (value === 0) return 'free';
    if (value >= this.eocMin) return 'eoc';
    if (value === this.bad) return 'bad';
    if (value === 1 || value > this.bs.clusterCount + 1) return 'reserved';
    return 'next';
  }

  validCluster(c: number): boolean {
    return c >= 2 && c <= this.bs.clusterCount + 1;
  }

  /** Follow a chain from `start`, at most `limit` clusters. */
  async walk(start: number, limit: number): Promise<ChainWalk> {
    const clusters: number[] = [];
    if (!this.validCluster(start)) return { clusters, end: 'out-of-range', lastValue: start };
    const seen = new Set<number>();
    let c = start;
    for (;;) {
      if (seen.has(c)) return { clusters, end: 'loop', lastValue: c };
      seen.add(c);
      clusters.push(c);
      const v = await this.get(c);
      const k = this.kind(v);
      if (k !== 'next') {
        const end = k === 'eoc' ? 'eoc' : k === 'free' ? 'free' : k === 'bad' ? 'bad' : v > this.bs.clusterCount + 1 && v < this.eocMin && v !== this.bad ? 'out-of-range' : 'reserved';
        return { clusters, end, lastValue: v };
      }
      if (clusters.length >= limit) return { clusters, end: 'limit', lastValue: v };
      c = v;
    }
  }

  /**
   * The media/dirty bits of FAT[1] (FAT16: bits 15/14; FAT32: bits 27/26). `clean` false means
   * the volume was not unmounted cleanly; `ioError` true means a disk error was seen. FAT12
   * has no such bits.
   */
  async volumeFlags(): Promise<{ clean: boolean; ioError: boolean } | null> {
    if (this.bits === 12) return null;
    const v = await this.get(1);
    if (this.bits === 16) return { clean: (v & 0x8000) !== 0, ioError: (v & 0x4000) === 0 };
    return { clean: (v & 0x08000000) !== 0, ioError: (v & 0x04000000) === 0 };
  }
}

/** Runs of consecutive clusters, e.g. [[5, 9], [20, 21]]. */
export function clusterRuns(clusters: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const c of clusters) {
    const last = runs[runs.length - 1];
    if (last && c === last[1] + 1) last[1] = c;
    else runs.push([c, c]);
  }
  return runs;
}

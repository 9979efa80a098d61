import type { BlockDevice } from '../../disk/block-device.js';
import { parseBootSector, type BootSector, type FatBootSector } from '../../partition/boot-sector.js';
import { parseFsInfo, type FsInfo } from './fs-info.js';
import { parseDirectory, type DirEntry, type DirListing, type SlotAddress } from './dir-entries.js';
import { FatTable, type ChainWalk } from './fat-table.js';
import { SectorReader } from './sector-reader.js';

/** Sectors of a directory read at a time (4 KiB), up to its end marker. */
const DIR_CHUNK = 8;

/** A FAT directory holds at most 65536 entries (FAT spec): 2 MiB. Never read more. */
const MAX_DIR_BYTES = 65536 * 32;

export interface FatVolumeFacts {
  boot: FatBootSector;
  fsInfo: FsInfo | null;
  /** FAT32: the backup boot sector differs from the primary at these byte offsets (first few). */
  backupBoot: { sector: number; matches: boolean; differingBytes: number[] } | null;
  /** FAT[1] bits; null on FAT12. */
  flags: { clean: boolean; ioError: boolean } | null;
}

export interface DirectoryRead extends DirListing {
  path: string;
  /** Clusters of the directory read so far (FAT32 root and subdirectories; [] for a fixed root). */
  clusters: number[];
  /** What is wrong with the directory's own chain, if anything. */
  chainProblem: string | null;
}

export interface FileRead {
  data: Uint8Array;
  chain: ChainWalk;
  /** Clusters needed for the size in the directory entry. */
  clustersNeeded: number;
}

/**
 * A read-only look at a FAT volume that believes nothing it has not checked: the boot sector
 * is range-checked before use, chains are walked with loop and length limits, and only the
 * sectors asked about are read. No writes, ever: `--fix` goes through other code.
 */
export class FatInspector {
  readonly reader: SectorReader;
  readonly fat: FatTable;

  private constructor(reader: SectorReader, readonly boot: FatBootSector) {
    this.reader = reader;
    this.fat = new FatTable(reader, boot);
  }

  /** Read the boot sector at `start` of `dev`. Returns what is there when it is not FAT. */
  static async open(dev: BlockDevice, start: number, sectors: number): Promise<FatInspector | BootSector> {
    const reader = new SectorReader(dev, start, sectors);
    const bs = parseBootSector(await reader.read(0, 1));
    if (bs.kind !== 'fat') return bs;
    if (bs.bytesPerSector !== dev.sectorSize) {
      // A volume made with other logical sectors (mkfs.fat -S 4096): its sector numbers are not ours.
      return { kind: 'unknown', bytesPerSector: bs.bytesPerSector, clusterBytes: bs.clusterBytes, totalSectors: bs.totalSectors, clusterCount: bs.clusterCount, problems: [`the volume says ${bs.bytesPerSector}-byte sectors, the card has ${dev.sectorSize}-byte sectors`] };
    }
    return new FatInspector(reader, bs);
  }

  /** Boot-sector-level facts: FSInfo, backup boot sector, dirty bits. A handful of sectors. */
  async facts(): Promise<FatVolumeFacts> {
    const b = this.boot;
    let fsInfo: FsInfo | null = null;
    let backupBoot: FatVolumeFacts['backupBoot'] = null;
    if (b.fat32) {
      const fi = b.fat32.fsInfoSector;
      if (fi > 0 && fi < b.reservedSectors && this.reader.inVolume(fi)) fsInfo = parseFsInfo(await this.reader.read(fi, 1), b.clusterCount);
      else fsInfo = { signaturesOk: false, freeCount: 0xffffffff, nextFree: 0xffffffff, problems: [`FSInfo sector ${fi} is outside the reserved area`] };
      const bk = b.fat32.backupBootSector;
      if (bk > 0 && bk < b.reservedSectors && bk !== 0xffff && this.reader.inVolume(bk)) {
        const primary = await this.reader.read(0, 1);
        const backup = await this.reader.read(bk, 1);
        const differing: number[] = [];
        for (let i = 0; i < primary.byteLength; i++) if (primary[i] !== backup[i]) differing.push(i);
        backupBoot = { sector: bk, matches: differing.length === 0, differingBytes: differing.slice(0, 16) };
      } else {
        backupBoot = { sector: bk, matches: false, differingBytes: [] };
      }
    }
    const flags = await this.fat.volumeFlags();
    return { boot: b, fsInfo, backupBoot, flags };
  }

  /**
   * FAT sectors (relative to the FAT start) holding the entries of `clusters` that differ
   * between the active FAT and any other copy. Compares only those sectors: with mirroring a
   * bootloader reads the first FAT, fsck and Windows may trust another.
   */
  async fatCopiesDiffer(clusters: number[]): Promise<number[]> {
    const b = this.boot;
    if (b.fatCount < 2) return [];
    const sectors = [...new Set(clusters.flatMap((c) => this.fat.sectorsOf(c)))].sort((x, y) => x - y);
    const differ: number[] = [];
    for (const sec of sectors) {
      const active = await this.reader.read(b.activeFatStart + sec, 1);
      for (let copy = 0; copy < b.fatCount; copy++) {
        const start = b.reservedSectors + copy * b.sectorsPerFat;
        if (start === b.activeFatStart) continue;
        const other = await this.reader.read(start + sec, 1);
        if (!active.every((x, i) => x === other[i])) {
          differ.push(sec);
          break;
        }
      }
    }
    return differ;
  }

  clusterToSector(c: number): number {
    return this.boot.dataStart + (c - 2) * this.boot.sectorsPerCluster;
  }

  /** Read a directory given its first cluster (0 = the root). Stops at the end marker. */
  async readDirectory(firstCluster: number, path: string): Promise<DirectoryRead> {
    const b = this.boot;
    const slots: { bytes: Uint8Array; at: SlotAddress }[] = [];
    let ended = false;
    const take = (data: Uint8Array, firstSector: number): void => {
      for (let i = 0; i * 32 < data.byteLength && !ended; i++) {
        const s = data.subarray(i * 32, i * 32 + 32);
        slots.push({ bytes: s, at: { sector: firstSector + Math.floor((i * 32) / b.bytesPerSector), offset: (i * 32) % b.bytesPerSector } });
        if (s[0] === 0) ended = true;
      }
    };
    let chainProblem: string | null = null;
    const clusters: number[] = [];
    if (firstCluster === 0 && !b.fat32) {
      // FAT12/16: a fixed region after the FATs.
      for (let i = 0; i < b.rootDirSectors && !ended; i++) {
        const sec = b.rootDirStart + i;
        if (!this.reader.inVolume(sec)) {
          chainProblem = 'the root directory region runs past the volume';
          break;
        }
        take(await this.reader.read(sec, 1), sec);
      }
    } else {
      const start = firstCluster === 0 ? b.fat32!.rootCluster : firstCluster;
      const maxClusters = Math.ceil(MAX_DIR_BYTES / b.clusterBytes);
      const seen = new Set<number>();
      let c = start;
      if (!this.fat.validCluster(c)) chainProblem = `starts at cluster ${c}, outside the volume`;
      while (!chainProblem && !ended) {
        if (seen.has(c)) {
          chainProblem = `its cluster chain loops back to cluster ${c}`;
          break;
        }
        seen.add(c);
        clusters.push(c);
        const sec = this.clusterToSector(c);
        if (!this.reader.inVolume(sec, b.sectorsPerCluster)) {
          chainProblem = `cluster ${c} lies past the end of the volume`;
          break;
        }
        // A few sectors at a time up to the end marker: most directories fill a sliver of a
        // 32 KiB cluster, and a card behind an MCU pays for every sector in serial round trips.
        for (let k = 0; k < b.sectorsPerCluster && !ended; k += DIR_CHUNK) take(await this.reader.read(sec + k, Math.min(DIR_CHUNK, b.sectorsPerCluster - k)), sec + k);
        if (ended) break;
        const v = await this.fat.get(c);
        const k = this.fat.kind(v);
        if (k === 'eoc') break;
        if (k !== 'next') {
          chainProblem = `its cluster chain ends in a ${k} entry (0x${v.toString(16)}) after cluster ${c}`;
          break;
        }
        if (clusters.length >= maxClusters) {
          chainProblem = `it is longer than the 65536 entries a FAT directory may hold`;
          break;
        }
        c = v;
      }
    }
    return { ...parseDirectory(slots, b.clusterCount + 1), path, clusters, chainProblem };
  }

  /** Walk a file's chain: one cluster more than its size needs, to see whether it ends there. */
  async fileChain(entry: DirEntry): Promise<{ chain: ChainWalk; clustersNeeded: number }> {
    const needed = Math.ceil(entry.size / this.boot.clusterBytes);
    if (entry.firstCluster === 0) return { chain: { clusters: [], end: entry.size === 0 ? 'eoc' : 'out-of-range', lastValue: 0 }, clustersNeeded: needed };
    return { chain: await this.fat.walk(entry.firstCluster, needed + 1), clustersNeeded: needed };
  }

  /** Read the bytes of a file along its chain (as far as the chain goes), at most its size. */
  async readFile(entry: DirEntry): Promise<FileRead> {
    const { chain, clustersNeeded } = await this.fileChain(entry);
    const cb = this.boot.clusterBytes;
    const usable = chain.clusters.slice(0, clustersNeeded);
    const data = new Uint8Array(Math.min(entry.size, usable.length * cb));
    let done = 0;
    let i = 0;
    while (i < usable.length && done < data.byteLength) {
      // Read runs of consecutive clusters in one go.
      let j = i;
      while (j + 1 < usable.length && usable[j + 1] === usable[j]! + 1) j++;
      const sectors = (j - i + 1) * this.boot.sectorsPerCluster;
      const first = this.clusterToSector(usable[i]!);
      if (!this.reader.inVolume(first, sectors)) break;
      // Not the slack after the file's last byte (up to a cluster of it).
      const bytes = await this.reader.read(first, Math.min(sectors, Math.ceil((data.byteLength - done) / this.boot.bytesPerSector)));
      const n = Math.min(bytes.byteLength, data.byteLength - done);
      data.set(bytes.subarray(0, n), done);
      done += n;
      i = j + 1;
    }
    return { data: done === data.byteLength ? data : data.subarray(0, done), chain, clustersNeeded };
  }
}

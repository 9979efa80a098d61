import type { BlockDevice } from '../../disk/block-device.js';

/**
 * Sector reads at an offset (a volume inside a card), with a small cache so that walking a
 * chain through one FAT sector, or reading a directory twice, costs one device read. Counts
 * what it reads: `check` promises to read only what it needs, and tests hold it to that.
 */
export class SectorReader {
  private readonly cache = new Map<number, Uint8Array>();
  /** Sectors read from the device (cache misses) through this reader. */
  sectorsRead = 0;

  constructor(
    readonly dev: BlockDevice,
    /** First sector of the volume on the device. */
    readonly base: number,
    /** Sectors in the volume (reads past it are refused by `inVolume`). */
    readonly sectors: number,
    private readonly maxCached = 256,
  ) {}

  get sectorSize(): number {
    return this.dev.sectorSize;
  }

  inVolume(lba: number, count = 1): boolean {
    return lba >= 0 && count >= 0 && lba + count <= this.sectors && this.base + lba + count <= this.dev.sectorCount;
  }

  /** `count` sectors from volume sector `lba`, as one buffer. */
  async read(lba: number, count = 1): Promise<Uint8Array> {
    if (count === 1) return this.one(lba);
    const out = new Uint8Array(count * this.sectorSize);
    // Fetch the uncached run in one device read: a firmware file is usually contiguous.
    let i = 0;
    while (i < count) {
      const hit = this.cache.get(lba + i);
      if (hit) {
        out.set(hit, i * this.sectorSize);
        i++;
        continue;
      }
      let j = i;
      while (j < count && !this.cache.has(lba + j)) j++;
      const data = await this.dev.read(this.base + lba + i, j - i);
      this.sectorsRead += j - i;
      out.set(data.subarray(0, (j - i) * this.sectorSize), i * this.sectorSize);
      i = j;
    }
    return out;
  }

  private async one(lba: number): Promise<Uint8Array> {
    const hit = this.cache.get(lba);
    if (hit) return hit;
    const data = (await this.dev.read(this.base + lba, 1)).slice(0, this.sectorSize);
    this.sectorsRead++;
    if (this.cache.size >= this.maxCached) {
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
    this.cache.set(lba, data);
    return data;
  }

  /** Forget cached sectors (after a write through another path). */
  clear(): void {
    this.cache.clear();
  }
}

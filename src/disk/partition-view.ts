import type { LocalBlockDevice, BlockDevice, SyncBlockDevice } from './block-device.js';
import { checkRange } from './range-check.js';
import { UsageError } from '../errors.js';

/**
 * A window (start + length, in sectors) onto another device: a partition seen as a volume.
 * Works over any device; the sync methods exist only when the parent has them.
 */
export class PartitionView implements LocalBlockDevice {
  readonly name: string;
  readonly sectorSize: number;
  readonly readOnly: boolean;

  constructor(
    private readonly parent: BlockDevice & Partial<SyncBlockDevice>,
    readonly start: number,
    readonly sectorCount: number,
  ) {
    if (start < 0 || sectorCount <= 0 || start + sectorCount > parent.sectorCount) {
      throw new UsageError('bad-partition', `partition ${start}+${sectorCount} does not fit in ${parent.name} (${parent.sectorCount} sectors)`);
    }
    this.name = `${parent.name}@${start}`;
    this.sectorSize = parent.sectorSize;
    this.readOnly = parent.readOnly;
  }

  private need<K extends keyof SyncBlockDevice>(k: K): NonNullable<SyncBlockDevice[K]> {
    const f = this.parent[k];
    if (typeof f !== 'function') throw new Error(`internal: ${this.parent.name} has no ${String(k)}`);
    return (f as Function).bind(this.parent) as NonNullable<SyncBlockDevice[K]>;
  }

  readSync(lba: number, count: number, into?: Uint8Array): Uint8Array {
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, count * this.sectorSize);
    return this.need('readSync')(this.start + lba, count, into);
  }
  writeSync(lba: number, data: Uint8Array): void {
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, data.byteLength);
    this.need('writeSync')(this.start + lba, data);
  }
  flushSync(): void {
    this.need('flushSync')();
  }
  async read(lba: number, count: number): Promise<Uint8Array> {
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, count * this.sectorSize);
    return this.parent.read(this.start + lba, count);
  }
  async write(lba: number, data: Uint8Array): Promise<void> {
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, data.byteLength);
    return this.parent.write(this.start + lba, data);
  }
  flush(): Promise<void> {
    return this.parent.flush();
  }
  /** Closing a view does not close the parent device. */
  async close(): Promise<void> {
    await this.parent.flush();
  }
}

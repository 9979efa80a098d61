import type { BlockDevice } from '../../src/disk/block-device.js';

/** Thrown by FaultDevice where the "power" went. */
export class Cut extends Error {
  constructor(readonly afterWrites: number) {
    super(`cut after ${afterWrites} writes`);
  }
}

/**
 * A BlockDevice that stops after `writes` whole writes, as a kill or an unplug does: the next
 * write lands only partly (its first `tornSectors` sectors, when > 0) and every call after throws.
 * Reads pass through.
 */
export class FaultDevice implements BlockDevice {
  private n = 0;
  private dead = false;
  constructor(private readonly dev: BlockDevice, private readonly writes: number, private readonly tornSectors = 0) {}
  get name() { return this.dev.name; }
  get sectorSize() { return this.dev.sectorSize; }
  get sectorCount() { return this.dev.sectorCount; }
  get readOnly() { return this.dev.readOnly; }
  get writesDone() { return this.n; }
  read(lba: number, count: number) {
    if (this.dead) return Promise.reject(new Cut(this.n));
    return this.dev.read(lba, count);
  }
  async write(lba: number, data: Uint8Array) {
    if (this.dead) throw new Cut(this.n);
    if (this.n >= this.writes) {
      this.dead = true;
      const torn = Math.min(this.tornSectors, data.byteLength / this.sectorSize - 1);
      if (torn > 0) await this.dev.write(lba, data.subarray(0, torn * this.sectorSize));
      throw new Cut(this.n);
    }
    this.n++;
    await this.dev.write(lba, data);
  }
  flush() { return this.dead ? Promise.reject(new Cut(this.n)) : this.dev.flush(); }
  close() { return this.dev.close(); }
}

import type { BlockDevice } from './block-device.js';
import { checkRange } from './range-check.js';
import { concatBytes } from '../util/bytes.js';

export interface CombiningDeviceOptions {
  /**
   * Longest run, in sectors, that is gathered before it goes to the device, and longest
   * read-ahead. Bounds memory, the retry unit of the device below and how far progress
   * reports can run ahead of the card. Default 32 (16 KiB).
   */
  maxRunSectors?: number;
}

/**
 * Gathers many small sector requests into few large ones, for a device where every request
 * costs a round trip (an SD card behind a Klipper MCU: one multi-block command and its stop
 * and status check per request).
 *
 * FatFs reads and writes file data one cluster at a time; on a card with 2 KiB clusters a
 * 45 KB firmware becomes 22 writes and 22 reads. Here:
 * - Writes that continue the previous one are held back and sent as one run when the run is
 *   full or any other request comes (a read, a write elsewhere, a flush). Order is kept: a
 *   held run always reaches the device before anything that follows it, so what a power cut
 *   can leave on the card is the same as without this layer. A failure of a held run is
 *   reported by the request that caused it to be sent (at the latest by `flush()`, which every
 *   FatFs operation that changes the volume ends with).
 * - `readAhead(n)` announces that about `n` sectors will be read in order (a file read). A read
 *   that continues the previous one then fetches up to the rest of those `n` sectors at once
 *   and keeps the extra ones for the reads that follow. Nothing is read beyond what was
 *   announced, so a whole-file read costs no extra bytes on the link.
 */
export class CombiningDevice implements BlockDevice {
  readonly name: string;
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly: boolean;
  private readonly maxRun: number;
  private held: { lba: number; parts: Uint8Array[]; count: number } | null = null;
  private cache: { lba: number; data: Uint8Array; count: number } | null = null;
  private ahead = 0;
  private streamEnd = -1;
  private lastReadEnd = -1;
  /** Requests that reached the device below, for tests and benchmarks. */
  readonly counters = { deviceReads: 0, deviceWrites: 0, combinedWrites: 0, readAheadHits: 0 };

  constructor(
    private readonly inner: BlockDevice,
    o: CombiningDeviceOptions = {},
  ) {
    this.name = inner.name;
    this.sectorSize = inner.sectorSize;
    this.sectorCount = inner.sectorCount;
    this.readOnly = inner.readOnly;
    this.maxRun = Math.max(1, Math.floor(o.maxRunSectors ?? 32));
  }

  /**
   * Sectors just read from the device below by someone else (the probe read the volume's boot
   * sector; FatFs's mount reads it next): the next read of them is answered from these. A write
   * over them forgets them, as it does read-ahead.
   */
  seed(lba: number, data: Uint8Array): void {
    if (this.cache || data.byteLength === 0 || data.byteLength % this.sectorSize) return;
    this.cache = { lba, data: data.slice(), count: data.byteLength / this.sectorSize };
  }

  /** About `sectors` sectors will now be read in order (0 ends read-ahead). */
  readAhead(sectors: number): void {
    this.ahead = Math.max(0, Math.floor(sectors));
    this.streamEnd = -1;
  }

  async read(lba: number, count: number): Promise<Uint8Array> {
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, count * this.sectorSize);
    await this.sendHeld();
    const ss = this.sectorSize;
    // The announced stream starts with the first read of several sectors (a file's first
    // cluster) or with a read that continues the previous one; FatFs's single-sector FAT and
    // directory reads in between neither start nor break it.
    if (this.ahead > 0 && this.streamEnd < 0 && (count > 1 || lba === this.lastReadEnd)) this.streamEnd = lba;
    const inStream = this.ahead > 0 && lba === this.streamEnd;
    this.lastReadEnd = lba + count;
    if (inStream) {
      this.streamEnd = lba + count;
      this.ahead = Math.max(0, this.ahead - count);
    }
    const c = this.cache;
    if (c && lba >= c.lba && lba + count <= c.lba + c.count) {
      this.counters.readAheadHits++;
      return c.data.slice((lba - c.lba) * ss, (lba - c.lba + count) * ss);
    }
    // Fetch the rest of the announced stream along with this read, a run at a time.
    const n = inStream ? Math.min(Math.max(count, Math.min(this.maxRun, count + this.ahead)), this.sectorCount - lba) : count;
    this.counters.deviceReads++;
    const data = await this.inner.read(lba, n);
    if (n > count) this.cache = { lba, data, count: n };
    return n > count ? data.slice(0, count * ss) : data;
  }

  async write(lba: number, data: Uint8Array): Promise<void> {
    const count = checkRange(this.name, this.sectorSize, this.sectorCount, lba, data.byteLength);
    if (count === 0) return;
    this.dropCached(lba, count);
    const h = this.held;
    if (h && lba === h.lba + h.count && h.count + count <= this.maxRun) {
      h.parts.push(data.slice());
      h.count += count;
      this.counters.combinedWrites++;
      if (h.count === this.maxRun) await this.sendHeld();
      return;
    }
    await this.sendHeld();
    if (count >= this.maxRun) {
      this.counters.deviceWrites++;
      await this.inner.write(lba, data);
      return;
    }
    this.held = { lba, parts: [data.slice()], count };
  }

  async flush(): Promise<void> {
    await this.sendHeld();
    await this.inner.flush();
  }

  async close(): Promise<void> {
    try {
      await this.sendHeld();
    } finally {
      this.cache = null;
      await this.inner.close();
    }
  }

  private dropCached(lba: number, count: number): void {
    const c = this.cache;
    if (c && lba < c.lba + c.count && c.lba < lba + count) this.cache = null;
  }

  /** Send the held run; it is forgotten either way (a failed run is the caller's error now). */
  private async sendHeld(): Promise<void> {
    const h = this.held;
    if (!h) return;
    this.held = null;
    const buf = h.parts.length === 1 ? h.parts[0]! : concatBytes(h.parts);
    this.counters.deviceWrites++;
    await this.inner.write(h.lba, buf);
  }
}

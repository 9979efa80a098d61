import { closeSync, fsyncSync, readSync, writeSync } from 'node:fs';
import { fromSystemError } from '../errors.js';
import type { IoCounters, LocalBlockDevice } from './block-device.js';
import { newCounters } from './block-device.js';
import { checkRange } from './range-check.js';

export interface FdDeviceOptions {
  name: string;
  fd: number;
  sectorSize: number;
  sectorCount: number;
  readOnly: boolean;
  /** Largest single write handed to the kernel; big enough to stream, small enough to stay responsive. */
  maxChunkBytes?: number;
}

/**
 * Sector I/O over an open file descriptor: the common core of image files and raw block
 * devices. Synchronous underneath (FatFs needs that); the async methods wrap the sync ones.
 */
export class FdDevice implements LocalBlockDevice {
  readonly name: string;
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly: boolean;
  readonly counters: IoCounters = newCounters();
  private fd: number | null;
  private readonly maxChunk: number;

  constructor(opts: FdDeviceOptions) {
    this.name = opts.name;
    this.fd = opts.fd;
    this.sectorSize = opts.sectorSize;
    this.sectorCount = opts.sectorCount;
    this.readOnly = opts.readOnly;
    this.maxChunk = opts.maxChunkBytes ?? 4 * 1024 * 1024;
  }

  private handle(): number {
    if (this.fd === null) throw fromSystemError({ code: 'EBADF', message: 'device is closed' }, this.name, 'use');
    return this.fd;
  }

  readSync(lba: number, count: number, into?: Uint8Array): Uint8Array {
    const bytes = count * this.sectorSize;
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, bytes);
    const buf = into ?? new Uint8Array(bytes);
    let done = 0;
    while (done < bytes) {
      let n: number;
      try {
        n = readSync(this.handle(), buf, done, Math.min(bytes - done, this.maxChunk), lba * this.sectorSize + done);
      } catch (e) {
        throw fromSystemError(e, this.name, 'read');
      }
      if (n === 0) {
        // Past the end of a sparse image file that was never extended: those sectors read as zeros.
        buf.fill(0, done, bytes);
        break;
      }
      done += n;
    }
    this.counters.readOps++;
    this.counters.bytesRead += bytes;
    return buf;
  }

  writeSync(lba: number, data: Uint8Array): void {
    if (this.readOnly) throw fromSystemError({ code: 'EROFS' }, this.name, 'write');
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, data.byteLength);
    let done = 0;
    while (done < data.byteLength) {
      const len = Math.min(data.byteLength - done, this.maxChunk);
      try {
        done += writeSync(this.handle(), data, done, len, lba * this.sectorSize + done);
      } catch (e) {
        throw fromSystemError(e, this.name, 'write');
      }
    }
    this.counters.writeOps++;
    this.counters.bytesWritten += data.byteLength;
  }

  flushSync(): void {
    if (this.fd === null || this.readOnly) return;
    try {
      fsyncSync(this.fd);
    } catch (e) {
      throw fromSystemError(e, this.name, 'flush');
    }
  }

  async read(lba: number, count: number): Promise<Uint8Array> {
    return this.readSync(lba, count);
  }

  async write(lba: number, data: Uint8Array): Promise<void> {
    this.writeSync(lba, data);
  }

  async flush(): Promise<void> {
    this.flushSync();
  }

  async close(): Promise<void> {
    if (this.fd === null) return;
    try {
      this.flushSync();
    } finally {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }
}

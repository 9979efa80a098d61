/**
 * An initialised SD card as a `BlockDevice`, over either host driver. Runs of sectors go to
 * the driver whole, so it can use multi-block commands (SPI) or pipeline (SDIO); the chunk
 * bound only keeps one call's memory and retry unit reasonable.
 */
import type { BlockDevice, IoCounters } from '../disk/block-device.js';
import { newCounters } from '../disk/block-device.js';
import { checkRange } from '../disk/range-check.js';
import { fromSystemError } from '../errors.js';
import { sdError } from './sd-errors.js';
import { SD_BLOCK, type SdCardInfo, type SdHost } from './sd-host.js';

export interface SdBlockDeviceOptions {
  /** Shown in messages. Default "SD card (spi)" / "SD card (sdio)". */
  name?: string;
  /** Refuse writes even if the card allows them (e.g. `inspect`, `check`). */
  readOnly?: boolean;
  /** Sectors per driver call. Default 256 (128 KiB). */
  maxSectorsPerCall?: number;
}

export class SdBlockDevice implements BlockDevice {
  readonly name: string;
  readonly sectorSize = SD_BLOCK;
  readonly sectorCount: number;
  readonly readOnly: boolean;
  readonly info: SdCardInfo;
  readonly counters: IoCounters = newCounters();
  private readonly maxSectors: number;
  private closed = false;

  /** `host` must be initialised (`await host.init()`), or use `SdBlockDevice.open`. */
  constructor(
    private readonly host: SdHost,
    opts: SdBlockDeviceOptions = {},
  ) {
    const info = host.info;
    if (!info) throw sdError('sd-not-initialized', 'the SD card must be initialised before it is used as a block device', {});
    this.info = info;
    this.name = opts.name ?? `SD card (${info.bus})`;
    this.sectorCount = info.sectorCount;
    this.readOnly = (opts.readOnly ?? false) || info.writeProtected;
    this.maxSectors = Math.max(1, opts.maxSectorsPerCall ?? 256);
  }

  /** Initialise the card if needed and wrap it. */
  static async open(host: SdHost, opts: SdBlockDeviceOptions = {}): Promise<SdBlockDevice> {
    if (!host.info) await host.init();
    return new SdBlockDevice(host, opts);
  }

  /** Blocks the card has moved so far, live inside a long read or write (0 if the host does not count). */
  get blocksMoved(): number {
    return this.host.blocksMoved ?? 0;
  }

  private live(): void {
    if (this.closed) throw fromSystemError({ code: 'EBADF', message: 'device is closed' }, this.name, 'use');
  }

  async read(lba: number, count: number): Promise<Uint8Array> {
    this.live();
    checkRange(this.name, this.sectorSize, this.sectorCount, lba, count * this.sectorSize);
    if (count <= this.maxSectors) {
      const d = await this.host.readBlocks(lba, count);
      this.count('read', d.length);
      return d;
    }
    const out = new Uint8Array(count * this.sectorSize);
    for (let done = 0; done < count; done += this.maxSectors) {
      const n = Math.min(this.maxSectors, count - done);
      out.set(await this.host.readBlocks(lba + done, n), done * this.sectorSize);
      this.count('read', n * this.sectorSize);
    }
    return out;
  }

  async write(lba: number, data: Uint8Array): Promise<void> {
    this.live();
    if (this.readOnly) {
      if (this.info.writeProtected) throw sdError('sd-write-protected', `${this.name} is write-protected`, {});
      throw fromSystemError({ code: 'EROFS' }, this.name, 'write');
    }
    const count = checkRange(this.name, this.sectorSize, this.sectorCount, lba, data.byteLength);
    for (let done = 0; done < count; done += this.maxSectors) {
      const n = Math.min(this.maxSectors, count - done);
      await this.host.writeBlocks(lba + done, data.subarray(done * this.sectorSize, (done + n) * this.sectorSize));
      this.count('write', n * this.sectorSize);
    }
  }

  private count(kind: 'read' | 'write', bytes: number): void {
    if (kind === 'read') {
      this.counters.readOps++;
      this.counters.bytesRead += bytes;
    } else {
      this.counters.writeOps++;
      this.counters.bytesWritten += bytes;
    }
  }

  /** Card writes complete (busy over, status checked) before `write` resolves: nothing to flush. */
  async flush(): Promise<void> {
    this.live();
  }

  /** Leaves the card initialised: the flow decides when to `deinit` it (or reset the MCU). */
  async close(): Promise<void> {
    this.closed = true;
  }
}

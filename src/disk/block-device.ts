/**
 * The one interface for sector I/O. Everything above `disk/` (partition tables, FAT, flows)
 * sees only this, so an image file, a raw /dev/sdX and a card behind a Klipper MCU are
 * interchangeable.
 *
 * Contracts:
 * - `lba` and `count` are in sectors of `sectorSize` bytes; reads and writes past
 *   `sectorCount` throw a typed error and touch nothing.
 * - `write` may be buffered by the OS; only `flush()` promises the data reached the medium.
 * - `close()` flushes first and may be called more than once.
 */
export interface BlockDevice {
  /** Human-readable name used in messages (path or description). */
  readonly name: string;
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly: boolean;
  read(lba: number, count: number): Promise<Uint8Array>;
  write(lba: number, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Synchronous sector access. ChaN's FatFs (js-fatfs) calls its disk callbacks synchronously,
 * so the FAT layer needs this. Local files and devices implement it directly; an asynchronous
 * device (an SD card over serial) is served to FatFs from a worker thread that blocks on a
 * shared buffer.
 */
export interface SyncBlockDevice {
  readonly name: string;
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly: boolean;
  readSync(lba: number, count: number, into?: Uint8Array): Uint8Array;
  writeSync(lba: number, data: Uint8Array): void;
  flushSync(): void;
}

export type LocalBlockDevice = BlockDevice & SyncBlockDevice;

/** Running totals every device keeps, for benchmarks and the "reads only what it needs" tests. */
export interface IoCounters {
  readOps: number;
  writeOps: number;
  bytesRead: number;
  bytesWritten: number;
}

export function newCounters(): IoCounters {
  return { readOps: 0, writeOps: 0, bytesRead: 0, bytesWritten: 0 };
}

import type { ProgressListener } from '../progress.js';

/** One entry of a FAT directory, as FatFs reports it. */
export interface FatEntry {
  /** Name as stored (long name if there is one). */
  name: string;
  /** The 8.3 name ("" when the entry has only a short name equal to `name`). */
  shortName: string;
  size: number;
  isDir: boolean;
  readOnly: boolean;
  hidden: boolean;
  system: boolean;
  archive: boolean;
  /** FAT date/time as a JS Date (local time). */
  modified: Date;
}

export interface FatInfo {
  fsType: 'FAT12' | 'FAT16' | 'FAT32' | 'exFAT';
  freeBytes: number;
  clusterBytes: number;
}

/**
 * A mounted FAT volume, whatever holds it: a local image or /dev/sdX (LocalFatVolume, FatFs in
 * this thread) or an SD card behind a Klipper MCU (RemoteFatVolume, FatFs in a worker). Flows
 * such as installFirmware are written once against this.
 *
 * Contracts (both implementations):
 * - Paths are absolute FAT paths ("/firmware.bin", "/KLIPPER/fw.bin").
 * - Every call that changes the volume is one update, committed to the device before it
 *   resolves (FATs and entries ordered so a cut leaves at worst lost clusters, see
 *   metadata-buffer.ts); a call that rejects changed no metadata.
 * - Errors are the typed FwcardErrors of fresult.ts, or the device's own error for a failed
 *   sector transfer.
 * - `unmount` releases FatFs; the device stays open and is the caller's to close.
 */
export interface FatFileSystem {
  /** Write `data` to `path` (created, or replaced), the whole chain allocated first. */
  writeFile(path: string, data: Uint8Array, onProgress?: ProgressListener): Promise<void>;
  readFile(path: string, onProgress?: ProgressListener): Promise<Uint8Array>;
  /** Entry for `path`, or undefined when it does not exist. */
  tryStat(path: string): Promise<FatEntry | undefined>;
  list(dir?: string): Promise<FatEntry[]>;
  /** Create a directory; one that already exists is left as it is. */
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  info(): Promise<FatInfo>;
  unmount(): Promise<void>;
}

import type { SyncBlockDevice } from '../disk/block-device.js';
import type { ProgressListener } from '../progress.js';
import { FatVolume, type FatMountOptions } from './fat-volume.js';
import { loadFatFs } from './fatfs-glue.js';
import type { FatEntry, FatFileSystem, FatInfo } from './file-system.js';

/**
 * The FatFileSystem of a device this thread can read synchronously (an image file, /dev/sdX):
 * FatFs runs here, each call completes before its promise resolves. The async face is what lets
 * a flow treat it and the card behind an MCU (RemoteFatVolume) alike.
 */
export class LocalFatVolume implements FatFileSystem {
  private constructor(private readonly vol: FatVolume) {}

  /**
   * Start loading FatFs (js-fatfs and the compile of its WASM, on V8's background threads) now,
   * for a mount that will come: the work overlaps whatever the caller does meanwhile. A failure
   * is the mount's to report.
   */
  static preload(): void {
    loadFatFs().catch(() => undefined);
  }

  /** Mount the FAT volume that starts at sector 0 of `dev` (a PartitionView for a partition). */
  static async mount(dev: SyncBlockDevice, o: FatMountOptions = {}): Promise<LocalFatVolume> {
    return new LocalFatVolume(await FatVolume.mount(dev, o));
  }

  async writeFile(path: string, data: Uint8Array, onProgress?: ProgressListener): Promise<void> {
    this.vol.writeFile(path, data, onProgress);
  }
  async readFile(path: string, onProgress?: ProgressListener): Promise<Uint8Array> {
    return this.vol.readFile(path, onProgress);
  }
  async tryStat(path: string): Promise<FatEntry | undefined> {
    return this.vol.tryStat(path);
  }
  async list(dir = '/'): Promise<FatEntry[]> {
    return this.vol.list(dir);
  }
  async mkdir(path: string): Promise<void> {
    this.vol.mkdir(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.vol.rename(from, to);
  }
  async unlink(path: string): Promise<void> {
    this.vol.unlink(path);
  }
  async info(): Promise<FatInfo> {
    return this.vol.info();
  }
  async unmount(): Promise<void> {
    this.vol.unmount();
  }
}

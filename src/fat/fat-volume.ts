import type { FatFs } from 'js-fatfs';
import type { SyncBlockDevice } from '../disk/block-device.js';
import { IoError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { diskIo, entryOf, fatFsOptions, FATFS_CSIZE, FATFS_FS_TYPE, loadFatFs, mountChecked, regionsOf, type FatFsModule } from './fatfs-glue.js';
import { fatError } from './fresult.js';
import { MetadataBuffer, type CommitOrder } from './metadata-buffer.js';
import type { FatEntry, FatInfo } from './file-system.js';
import type { UpdateLog } from './update-log.js';

export type { FatEntry, FatInfo } from './file-system.js';

export interface FatMountOptions {
  /**
   * Record each update's metadata before it is written, so that a run that dies half-way can be
   * undone by the next one (see update-log.ts).
   */
  updateLog?: UpdateLog;
}

// Small enough for progress to move (and for an upload to be interrupted mid-file in tests),
// large enough for FatFs to write whole clusters straight to the device.
const CHUNK = 16 * 1024;

/**
 * ChaN's FatFs (through js-fatfs, compiled to WASM) behind a small typed interface. Nothing
 * above this file sees pointers or FRESULT codes. FatFs is the library Klipper's flash-sdcard
 * and most stock bootloaders use, so names and directory entries come out exactly as they
 * expect: a name that fits 8.3 becomes a plain 8.3 entry (NT case flags, no LFN entry).
 *
 * The js-fatfs build exports no f_setlabel/f_getlabel/f_chmod/f_expand (declared in its
 * typings, absent from the WASM): the formatter writes the label, and attribute repairs are
 * done on raw directory entries.
 *
 * Every call that changes the volume is one update: FatFs's metadata writes are held (see
 * MetadataBuffer) until FatFs syncs at the end of the call, then written FATs-first when it
 * allocates and entries-first when it deletes. A call that fails before that sync leaves the
 * card's metadata untouched: the held sectors are dropped and FatFs mounts afresh before the next
 * call. A sync that fails half-way is finished before the next call or at unmount.
 */
export class FatVolume {
  private ff: FatFs | null;
  private readonly fatfsPtr: number;
  /** FatFs's window may hold an abandoned update: mount afresh before the next call. */
  private stale = false;

  private constructor(private readonly F: FatFsModule, ff: FatFs, fatfsPtr: number, private readonly dev: SyncBlockDevice, private readonly errorBox: { error: unknown }, private readonly meta: MetadataBuffer) {
    this.ff = ff;
    this.fatfsPtr = fatfsPtr;
    meta.setRegions(regionsOf(F, ff, fatfsPtr));
  }

  /**
   * Mount the FAT volume that starts at sector 0 of `dev` (pass a PartitionView for a partition).
   * With `updateLog`, each update's metadata is recorded before it is written, so that a run
   * that dies half-way can be undone by the next one (see update-log.ts).
   */
  static async mount(dev: SyncBlockDevice, o: FatMountOptions = {}): Promise<FatVolume> {
    const F = await loadFatFs();
    const box: { error: unknown } = { error: undefined };
    const meta = new MetadataBuffer(dev, o.updateLog);
    // FatFs's window (FAT, directory and FSInfo sectors) lives inside its FATFS object; file
    // data goes through the caller's buffers or the FIL's own sector buffer (FF_FS_TINY 0).
    const window = { start: 0, end: 0 };
    const ff = await F.create(fatFsOptions(diskIo(F, dev, box, meta, (ptr) => ptr >= window.start && ptr < window.end)));
    const fs = ff.malloc(F.sizeof_FATFS);
    window.start = fs;
    window.end = fs + F.sizeof_FATFS;
    const r = mountChecked(F, ff, fs, box);
    if (r !== F.FR_OK) {
      ff.free(fs);
      throw fatError(r, 'mount', dev.name, box.error);
    }
    return new FatVolume(F, ff, fs, dev, box, meta);
  }

  private api(): FatFs {
    if (!this.ff) throw new IoError('fat-unmounted', `${this.dev.name}: volume is already unmounted`);
    if (this.meta.unfinished) {
      // A sync that stopped half-way: finish it before anything else reads or writes.
      try {
        this.meta.commit();
      } catch (e) {
        throw fatError(this.F.FR_DISK_ERR, 'finish an interrupted update of', this.dev.name, e);
      }
    }
    if (this.stale) {
      const r = mountChecked(this.F, this.ff, this.fatfsPtr, this.errorBox);
      if (r !== this.F.FR_OK) {
        const cause = this.errorBox.error;
        this.errorBox.error = undefined;
        throw fatError(r, 'mount', this.dev.name, cause);
      }
      this.stale = false;
    }
    return this.ff;
  }

  /**
   * One change to the volume, its metadata committed in `order` when FatFs syncs. When `body`
   * fails before a commit started, nothing of it reached the card's metadata (file data may have
   * gone to clusters that are still free): drop what was held and let FatFs forget it too.
   */
  private update<T>(order: CommitOrder, body: (ff: FatFs) => T): T {
    const ff = this.api();
    this.meta.begin(order);
    try {
      return body(ff);
    } catch (e) {
      if (!this.meta.unfinished) {
        this.meta.discard();
        this.stale = true;
      }
      throw e;
    }
  }

  private check(r: number, action: string, path: string): void {
    if (r !== this.F.FR_OK) {
      const cause = this.errorBox.error;
      this.errorBox.error = undefined;
      throw fatError(r, action, path, cause);
    }
  }

  /**
   * Write `data` to `path` (created, or replaced) in one pass, then close it. The card's FAT and
   * directory change only at the close, chain first, so a failure before it leaves no trace but
   * data in free clusters, and a failure inside it at worst leaves the new chain unowned.
   */
  writeFile(path: string, data: Uint8Array, onProgress?: ProgressListener): void {
    // Deleting the old file is an update of its own, entries first; the new file's update then
    // only allocates. (A folder by that name is left to f_open to refuse.)
    const old = this.tryStat(path);
    if (old && !old.isDir) this.unlink(path);
    this.update('fat-first', (ff) => {
      const fil = ff.malloc(this.F.sizeof_FIL);
      const buf = ff.malloc(CHUNK);
      const bw = ff.malloc(4);
      try {
        this.check(ff.f_open(fil, path, this.F.FA_WRITE | this.F.FA_CREATE_ALWAYS), 'create', path);
        // Allocate the whole chain before the data, so a full card is known before any data
        // goes out and the data runs straight over the allocated clusters.
        if (data.byteLength) {
          this.check(ff.f_lseek(fil, data.byteLength), 'allocate', path);
          if (ff.f_tell(fil) < data.byteLength) throw cardFull(path, 0, data.byteLength);
          this.check(ff.f_lseek(fil, 0), 'allocate', path);
        }
        let done = 0;
        while (done < data.byteLength) {
          const n = Math.min(CHUNK, data.byteLength - done);
          ff.HEAPU8.set(data.subarray(done, done + n), buf);
          this.check(ff.f_write(fil, buf, n, bw), 'write', path);
          const written = ff.getValue(bw, 'i32');
          if (written !== n) throw cardFull(path, done + written, data.byteLength);
          done += n;
          onProgress?.({ phase: 'write', label: `writing ${path}`, bytes: done, total: data.byteLength });
        }
        // The commit: FatFs writes the last partial sector, then syncs the held FAT and entry.
        // (After a failed write the file is left open, never closed: closing would commit it.)
        this.check(ff.f_close(fil), 'close', path);
      } finally {
        ff.free(bw);
        ff.free(buf);
        ff.free(fil);
      }
    });
  }

  readFile(path: string, onProgress?: ProgressListener): Uint8Array {
    const ff = this.api();
    const size = this.stat(path).size;
    const out = new Uint8Array(size);
    const fil = ff.malloc(this.F.sizeof_FIL);
    const buf = ff.malloc(CHUNK);
    const br = ff.malloc(4);
    try {
      this.check(ff.f_open(fil, path, this.F.FA_READ), 'open', path);
      try {
        let done = 0;
        while (done < size) {
          const n = Math.min(CHUNK, size - done);
          this.check(ff.f_read(fil, buf, n, br), 'read', path);
          const got = ff.getValue(br, 'i32');
          out.set(ff.HEAPU8.subarray(buf, buf + got), done);
          done += got;
          onProgress?.({ phase: 'verify', label: `reading back ${path}`, bytes: done, total: size });
          if (got < n) throw new IoError('short-read', `${path}: file ended after ${done} of ${size} bytes`, { hint: 'The FAT chain is shorter than the file size: run `fwcard check`.' });
        }
      } finally {
        ff.f_close(fil);
      }
    } finally {
      ff.free(br);
      ff.free(buf);
      ff.free(fil);
    }
    return out;
  }

  /** Entry for `path`, or undefined when it does not exist. */
  tryStat(path: string): FatEntry | undefined {
    const ff = this.api();
    const fno = ff.malloc(this.F.sizeof_FILINFO);
    try {
      const r = ff.f_stat(path, fno);
      if (r === this.F.FR_NO_FILE || r === this.F.FR_NO_PATH) return undefined;
      this.check(r, 'stat', path);
      return entryOf(this.F, ff, fno);
    } finally {
      ff.free(fno);
    }
  }

  stat(path: string): FatEntry {
    const e = this.tryStat(path);
    if (!e) throw fatError(this.F.FR_NO_FILE, 'stat', path);
    return e;
  }

  list(dir = '/'): FatEntry[] {
    const ff = this.api();
    const dp = ff.malloc(this.F.sizeof_DIR);
    const fno = ff.malloc(this.F.sizeof_FILINFO);
    const out: FatEntry[] = [];
    try {
      this.check(ff.f_opendir(dp, dir), 'open directory', dir);
      try {
        for (;;) {
          this.check(ff.f_readdir(dp, fno), 'read directory', dir);
          const e = entryOf(this.F, ff, fno);
          if (e.name === '') break;
          out.push(e);
        }
      } finally {
        ff.f_closedir(dp);
      }
    } finally {
      ff.free(fno);
      ff.free(dp);
    }
    return out;
  }

  mkdir(path: string): void {
    this.update('fat-first', (ff) => {
      const r = ff.f_mkdir(path);
      if (r !== this.F.FR_EXIST) this.check(r, 'create directory', path);
    });
  }

  /** Renaming changes directory entries only (one sector when both names share it). */
  rename(from: string, to: string): void {
    this.update('rename', (ff) => this.check(ff.f_rename(from, to), `rename to ${to}`, from));
  }

  unlink(path: string): void {
    this.update('entries-first', (ff) => this.check(ff.f_unlink(path), 'delete', path));
  }

  info(): FatInfo {
    const ff = this.api();
    const ncl = ff.malloc(4);
    const pfs = ff.malloc(4);
    try {
      this.check(ff.f_getfree('', ncl, pfs), 'read free space of', this.dev.name);
      const free = ff.getValue(ncl, 'i32') >>> 0;
      const fsTypeCode = ff.HEAPU8[this.fatfsPtr + FATFS_FS_TYPE]!;
      const csize = ff.getValue(this.fatfsPtr + FATFS_CSIZE, 'i16') & 0xffff;
      const fsType = fsTypeCode === this.F.FS_FAT32 ? 'FAT32' : fsTypeCode === this.F.FS_FAT16 ? 'FAT16' : fsTypeCode === this.F.FS_FAT12 ? 'FAT12' : 'exFAT';
      return { fsType, freeBytes: free * csize * this.dev.sectorSize, clusterBytes: csize * this.dev.sectorSize };
    } finally {
      ff.free(pfs);
      ff.free(ncl);
    }
  }

  /**
   * Release FatFs; the device stays open. Every change was committed by its own call, except a
   * commit that stopped half-way: that one gets one more try here.
   */
  unmount(): void {
    if (!this.ff) return;
    const ff = this.ff;
    this.ff = null;
    let unfinished: unknown;
    if (this.meta.unfinished) {
      try {
        this.meta.commit();
      } catch (e) {
        unfinished = e;
      }
    }
    const r = ff.f_unmount('');
    ff.free(this.fatfsPtr);
    if (unfinished) throw fatError(this.F.FR_DISK_ERR, 'finish an interrupted update of', this.dev.name, unfinished);
    if (r !== this.F.FR_OK) throw fatError(r, 'unmount', this.dev.name, this.errorBox.error);
  }
}

function cardFull(path: string, written: number, total: number): IoError {
  return new IoError('card-full', `the card is full: wrote ${written} of ${total} bytes of ${path}`, {
    hint: 'Delete files from the card or re-create it with `fwcard prepare`.',
  });
}


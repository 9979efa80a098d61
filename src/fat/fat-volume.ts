import * as F from 'js-fatfs';
import type { SyncBlockDevice } from '../disk/block-device.js';
import { IoError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import { fatError } from './fresult.js';

/**
 * ChaN's FatFs (through js-fatfs, compiled to WASM) behind a small typed interface. Nothing
 * above this file sees pointers or FRESULT codes. FatFs is the library Klipper's flash-sdcard
 * and most stock bootloaders use, so names and directory entries come out exactly as they
 * expect: a name that fits 8.3 becomes a plain 8.3 entry (NT case flags, no LFN entry).
 *
 * The js-fatfs build exports no f_setlabel/f_getlabel/f_chmod/f_expand (declared in its
 * typings, absent from the WASM): the formatter writes the label, and attribute repairs are
 * done on raw directory entries.
 */
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

// Small enough for progress to move (and for an upload to be interrupted mid-file in tests),
// large enough for FatFs to write whole clusters straight to the device.
const CHUNK = 16 * 1024;

export class FatVolume {
  private ff: F.FatFs | null;
  private readonly fatfsPtr: number;
  private lastDiskError: unknown;

  private constructor(ff: F.FatFs, fatfsPtr: number, private readonly dev: SyncBlockDevice, private readonly errorBox: { error: unknown }) {
    this.ff = ff;
    this.fatfsPtr = fatfsPtr;
    this.lastDiskError = undefined;
  }

  /** Mount the FAT volume that starts at sector 0 of `dev` (pass a PartitionView for a partition). */
  static async mount(dev: SyncBlockDevice): Promise<FatVolume> {
    const box: { error: unknown } = { error: undefined };
    const ff = await F.create({ diskio: diskIo(dev, box) });
    const fs = ff.malloc(F.sizeof_FATFS);
    const r = ff.f_mount(fs, '', 1);
    if (r !== F.FR_OK) {
      ff.free(fs);
      throw fatError(r, 'mount', dev.name, box.error);
    }
    return new FatVolume(ff, fs, dev, box);
  }

  private api(): F.FatFs {
    if (!this.ff) throw new IoError('fat-unmounted', `${this.dev.name}: volume is already unmounted`);
    return this.ff;
  }

  private check(r: number, action: string, path: string): void {
    if (r !== F.FR_OK) {
      const cause = this.errorBox.error;
      this.errorBox.error = undefined;
      throw fatError(r, action, path, cause);
    }
  }

  /** Write `data` to `path` (created or truncated) in one pass, then close it. */
  writeFile(path: string, data: Uint8Array, onProgress?: ProgressListener): void {
    const ff = this.api();
    const fil = ff.malloc(F.sizeof_FIL);
    const buf = ff.malloc(CHUNK);
    const bw = ff.malloc(4);
    try {
      this.check(ff.f_open(fil, path, F.FA_WRITE | F.FA_CREATE_ALWAYS), 'create', path);
      // Allocate the whole chain before any data goes out, so that the close after a failed
      // write records the full size over the full chain (a partial size over a longer chain is
      // what fsck.fat complained of). No sync here: until the close, the FAT changes stay in
      // FatFs's window, so a process killed mid-write leaves the FAT untouched rather than a
      // chain no directory entry owns (callers write under a temporary name, so a half-written
      // file is never one a bootloader flashes).
      if (data.byteLength) {
        this.check(ff.f_lseek(fil, data.byteLength), 'allocate', path);
        this.check(ff.f_lseek(fil, 0), 'allocate', path);
      }
      let done = 0;
      try {
        while (done < data.byteLength) {
          const n = Math.min(CHUNK, data.byteLength - done);
          ff.HEAPU8.set(data.subarray(done, done + n), buf);
          this.check(ff.f_write(fil, buf, n, bw), 'write', path);
          const written = ff.getValue(bw, 'i32');
          if (written !== n) {
            throw new IoError('card-full', `the card is full: wrote ${done + written} of ${data.byteLength} bytes of ${path}`, {
              hint: 'Delete files from the card or re-create it with `fwcard prepare`.',
            });
          }
          done += n;
          onProgress?.({ phase: 'write', label: `writing ${path}`, bytes: done, total: data.byteLength });
        }
      } finally {
        const rc = ff.f_close(fil);
        if (rc !== F.FR_OK && done === data.byteLength) this.check(rc, 'close', path);
      }
    } finally {
      ff.free(bw);
      ff.free(buf);
      ff.free(fil);
    }
  }

  readFile(path: string, onProgress?: ProgressListener): Uint8Array {
    const ff = this.api();
    const size = this.stat(path).size;
    const out = new Uint8Array(size);
    const fil = ff.malloc(F.sizeof_FIL);
    const buf = ff.malloc(CHUNK);
    const br = ff.malloc(4);
    try {
      this.check(ff.f_open(fil, path, F.FA_READ), 'open', path);
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
    const fno = ff.malloc(F.sizeof_FILINFO);
    try {
      const r = ff.f_stat(path, fno);
      if (r === F.FR_NO_FILE || r === F.FR_NO_PATH) return undefined;
      this.check(r, 'stat', path);
      return entryOf(ff, fno);
    } finally {
      ff.free(fno);
    }
  }

  stat(path: string): FatEntry {
    const e = this.tryStat(path);
    if (!e) throw fatError(F.FR_NO_FILE, 'stat', path);
    return e;
  }

  list(dir = '/'): FatEntry[] {
    const ff = this.api();
    const dp = ff.malloc(F.sizeof_DIR);
    const fno = ff.malloc(F.sizeof_FILINFO);
    const out: FatEntry[] = [];
    try {
      this.check(ff.f_opendir(dp, dir), 'open directory', dir);
      try {
        for (;;) {
          this.check(ff.f_readdir(dp, fno), 'read directory', dir);
          const e = entryOf(ff, fno);
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
    const r = this.api().f_mkdir(path);
    if (r === F.FR_EXIST) return;
    this.check(r, 'create directory', path);
  }

  rename(from: string, to: string): void {
    this.check(this.api().f_rename(from, to), `rename to ${to}`, from);
  }

  unlink(path: string): void {
    this.check(this.api().f_unlink(path), 'delete', path);
  }

  info(): FatInfo {
    const ff = this.api();
    const ncl = ff.malloc(4);
    const pfs = ff.malloc(4);
    try {
      this.check(ff.f_getfree('', ncl, pfs), 'read free space of', this.dev.name);
      const free = ff.getValue(ncl, 'i32') >>> 0;
      // FATFS object: fs_type is its first byte; csize (sectors per cluster) follows the
      // documented layout of FatFs R0.15 (BYTE fs_type, pdrv, ldrv, n_fats, wflag, fsi_flag;
      // WORD id, n_rootdir, csize).
      const fsTypeCode = ff.HEAPU8[this.fatfsPtr]!;
      const csize = ff.HEAPU8[this.fatfsPtr + 10]! | (ff.HEAPU8[this.fatfsPtr + 11]! << 8);
      const fsType = fsTypeCode === F.FS_FAT32 ? 'FAT32' : fsTypeCode === F.FS_FAT16 ? 'FAT16' : fsTypeCode === F.FS_FAT12 ? 'FAT12' : 'exFAT';
      return { fsType, freeBytes: free * csize * this.dev.sectorSize, clusterBytes: csize * this.dev.sectorSize };
    } finally {
      ff.free(pfs);
      ff.free(ncl);
    }
  }

  /** Flush FatFs state (FSInfo, dirty FAT sectors) and release it; the device stays open. */
  unmount(): void {
    if (!this.ff) return;
    const ff = this.ff;
    this.ff = null;
    const r = ff.f_unmount('');
    ff.free(this.fatfsPtr);
    if (r !== F.FR_OK) throw fatError(r, 'unmount', this.dev.name, this.errorBox.error);
  }
}

function entryOf(ff: F.FatFs, fno: number): FatEntry {
  const attr = ff.FILINFO_fattrib(fno);
  const date = ff.FILINFO_fdate(fno);
  const time = ff.FILINFO_ftime(fno);
  const modified = new Date(1980 + (date >> 9), ((date >> 5) & 15) - 1, date & 31, time >> 11, (time >> 5) & 63, (time & 31) * 2);
  return {
    name: ff.FILINFO_fname(fno),
    shortName: ff.FILINFO_altname(fno),
    size: ff.FILINFO_fsize(fno),
    isDir: (attr & F.AM_DIR) !== 0,
    readOnly: (attr & F.AM_RDO) !== 0,
    hidden: (attr & F.AM_HID) !== 0,
    system: (attr & F.AM_SYS) !== 0,
    archive: (attr & F.AM_ARC) !== 0,
    modified,
  };
}

/** FatFs disk callbacks over a synchronous block device. Errors are kept for the typed report. */
function diskIo(dev: SyncBlockDevice, box: { error: unknown }): F.DiskIO {
  return {
    initialize: () => 0,
    status: () => (dev.readOnly ? F.STA_PROTECT : 0),
    read: (ff, _pdrv, buff, sector, count) => {
      try {
        // FatFs passes LBA as a 32-bit value: undo JavaScript's signed view above 2^31.
        const data = dev.readSync(sector >>> 0, count);
        ff.HEAPU8.set(data, buff);
        return F.RES_OK;
      } catch (e) {
        box.error = e;
        return F.RES_ERROR;
      }
    },
    write: (ff, _pdrv, buff, sector, count) => {
      if (dev.readOnly) return F.RES_WRPRT;
      try {
        dev.writeSync(sector >>> 0, ff.HEAPU8.slice(buff, buff + count * dev.sectorSize));
        return F.RES_OK;
      } catch (e) {
        box.error = e;
        return F.RES_ERROR;
      }
    },
    ioctl: (ff, _pdrv, cmd, buff) => {
      switch (cmd) {
        case F.CTRL_SYNC:
          try {
            dev.flushSync();
            return F.RES_OK;
          } catch (e) {
            box.error = e;
            return F.RES_ERROR;
          }
        case F.GET_SECTOR_COUNT:
          ff.setValue(buff, dev.sectorCount | 0, 'i32');
          return F.RES_OK;
        case F.GET_SECTOR_SIZE:
          ff.setValue(buff, dev.sectorSize, 'i16');
          return F.RES_OK;
        case F.GET_BLOCK_SIZE:
          ff.setValue(buff, 1, 'i32');
          return F.RES_OK;
        default:
          return F.RES_PARERR;
      }
    },
  };
}

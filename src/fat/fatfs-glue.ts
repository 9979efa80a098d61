import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DiskIO, FatFs, FatFsOptions } from 'js-fatfs';
import type { SyncBlockDevice } from '../disk/block-device.js';
import type { FatEntry } from './file-system.js';
import type { FatRegions, MetadataBuffer } from './metadata-buffer.js';

/**
 * The glue between js-fatfs's WASM and our types: its disk callbacks over a SyncBlockDevice, the
 * fields of its FATFS object we read, its FILINFO as a FatEntry. fat-volume.ts holds the calls.
 */

export type FatFsModule = typeof import('js-fatfs');

let loaded: Promise<FatFsModule> | null = null;

/**
 * js-fatfs (WASM) is loaded on the first mount, not when this module is imported: commands that
 * never mount a volume (--version, drives, boards, flash-sdcard -c before the card) skip it.
 * Its WASM is compiled here too, asynchronously: V8 compiles it on background threads, so a
 * caller that starts this early (prepare, before it plans) has it ready by the first mount.
 */
export function loadFatFs(): Promise<FatFsModule> {
  return (loaded ??= Promise.all([import('js-fatfs'), compileWasm()]).then(([F]) => F));
}

/** The WebAssembly API, typed here: the project's lib (ES2022, no DOM) does not declare it. */
interface Wasm {
  compile: (bytes: Uint8Array) => Promise<object>;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => object;
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

/** The compiled module, once loadFatFs has resolved: compiled once per process. */
let compiled: object | null = null;

async function compileWasm(): Promise<void> {
  compiled = await wasm.compile(readFileSync(join(dirname(createRequire(import.meta.url).resolve('js-fatfs')), 'fatfs.wasm')));
}

/**
 * The options for js-fatfs's `create` (an Emscripten module): `diskio`, plus our own
 * instantiation of its WASM, for two reasons measured on `fwcard prepare`:
 * - The module is compiled once per process (loadFatFs), not once per mount (prepare mounts up to
 *   three times; each compile of the 0.5 MB module costs a few ms).
 * - Emscripten's tzset import, which FatFs reaches through localtime on its first timestamp,
 *   names the time zones with Date.prototype.toLocaleTimeString. That starts ICU's locale
 *   machinery (about 20 ms, a fifth of a node start) for names nothing here reads: a FAT
 *   timestamp is local time without a zone. The replacement fills in the same offsets and
 *   leaves the names empty. The import is found by its function name; if a js-fatfs release
 *   renames it, the original stays in place and only the speed is lost.
 */
export function fatFsOptions(diskio: DiskIO): FatFsOptions {
  type Heaps = { HEAPU8: Uint8Array; HEAP32: Int32Array; HEAPU32: Uint32Array };
  type Imports = Record<string, (...a: number[]) => unknown>;
  const module = {
    diskio,
    instantiateWasm(info: { a: Imports }, receive: (instance: object, module: object) => void): object {
      const imports = info.a;
      for (const k of Object.keys(imports)) {
        if (imports[k]!.name !== '__tzset_js') continue;
        imports[k] = (timezone: number, daylight: number, stdName: number, dstName: number) => {
          const heaps = module as unknown as Heaps;
          const year = new Date().getFullYear();
          const winter = new Date(year, 0, 1).getTimezoneOffset();
          const summer = new Date(year, 6, 1).getTimezoneOffset();
          heaps.HEAPU32[timezone >> 2] = Math.max(winter, summer) * 60;
          heaps.HEAP32[daylight >> 2] = Number(winter !== summer);
          heaps.HEAPU8[stdName] = 0;
          heaps.HEAPU8[dstName] = 0;
        };
      }
      // loadFatFs, which every create follows, compiled it.
      if (!compiled) throw new Error('internal: js-fatfs created before loadFatFs resolved');
      // Emscripten's contract for a synchronous instantiation: hand the instance to `receive`
      // and return its exports (createWasm's caller keeps what this returns).
      const instance = new wasm.Instance(compiled, info) as { exports: object };
      receive(instance, compiled);
      return instance.exports;
    },
  };
  return module;
}

/**
 * f_mount, where a read that failed counts even when FatFs carries on: it does when the FAT32
 * FSInfo sector cannot be read, and then never updates FSInfo, so its free count goes stale
 * (fsck.fat: "Free cluster summary wrong"). One more try, then the read error is the answer.
 */
export function mountChecked(F: FatFsModule, ff: FatFs, fs: number, box: { error: unknown }): number {
  for (let attempt = 1; ; attempt++) {
    box.error = undefined;
    const r = ff.f_mount(fs, '', 1);
    if (r !== F.FR_OK || box.error === undefined) return r;
    if (attempt === 2) return F.FR_DISK_ERR;
  }
}

// The FATFS object of FatFs R0.15 as js-fatfs builds it (ffconf: LFN on, FF_MAX_SS 4096 != FF_MIN_SS,
// 32-bit LBA, no exFAT, no relative paths): BYTE fs_type, pdrv, ldrv, n_fats, wflag, fsi_flag;
// WORD id, n_rootdir, csize, ssize; WCHAR* lfnbuf; DWORD last_clst, free_clst, n_fatent, fsize;
// LBA_t volbase, fatbase, dirbase, database, winsect; BYTE win[FF_MAX_SS].
export const FATFS_FS_TYPE = 0;
const FATFS_N_FATS = 3;
export const FATFS_CSIZE = 10;
const FATFS_FSIZE = 32;
const FATFS_VOLBASE = 36;
const FATFS_FATBASE = 40;
const FATFS_WIN = 56;

/** Where the mounted volume keeps its FATs and FSInfo, read from FatFs's own FATFS object. */
export function regionsOf(F: FatFsModule, ff: FatFs, fs: number): FatRegions {
  if (F.sizeof_FATFS !== FATFS_WIN + F.FF_MAX_SS) {
    throw new Error(`internal: js-fatfs's FATFS is ${F.sizeof_FATFS} bytes, not the layout this code reads (${FATFS_WIN} + ${F.FF_MAX_SS})`);
  }
  const u32 = (off: number) => ff.getValue(fs + off, 'i32') >>> 0;
  return {
    fatStart: u32(FATFS_FATBASE),
    sectorsPerFat: u32(FATFS_FSIZE),
    fats: ff.HEAPU8[fs + FATFS_N_FATS]!,
    // FatFs writes FSInfo next to the boot sector (sync_fs), FAT32 only.
    fsInfo: ff.HEAPU8[fs + FATFS_FS_TYPE] === F.FS_FAT32 ? u32(FATFS_VOLBASE) + 1 : -1,
  };
}

export function entryOf(F: FatFsModule, ff: FatFs, fno: number): FatEntry {
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

/**
 * FatFs disk callbacks over a synchronous block device, with FatFs's window writes held in
 * `meta` until FatFs syncs (CTRL_SYNC). Errors are kept for the typed report.
 */
export function diskIo(F: FatFsModule, dev: SyncBlockDevice, box: { error: unknown }, meta: MetadataBuffer, isWindow: (ptr: number) => boolean): DiskIO {
  return {
    initialize: () => 0,
    status: () => (dev.readOnly ? F.STA_PROTECT : 0),
    read: (ff, _pdrv, buff, sector, count) => {
      try {
        // FatFs passes LBA as a 32-bit value: undo JavaScript's signed view above 2^31.
        const data = meta.read(sector >>> 0, count, isWindow(buff));
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
        const data = ff.HEAPU8.slice(buff, buff + count * dev.sectorSize);
        if (isWindow(buff)) meta.hold(sector >>> 0, data);
        else meta.writeThrough(sector >>> 0, data);
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
            meta.commit();
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

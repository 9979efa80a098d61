/**
 * The protocol between RemoteFatVolume (main thread) and the FatFs worker.
 *
 * FatFs calls its disk callbacks synchronously, but a card behind a Klipper MCU answers over
 * serial, asynchronously. So FatFs runs in a worker; for each sector request the worker writes
 * the request into a SharedArrayBuffer, posts a wake-up message and blocks in Atomics.wait; the
 * main thread does the I/O on the real (async) device, fills the buffer and notifies.
 */
export const CTRL_INTS = 8;
/** Control words (Int32Array over the first 32 bytes). */
export const C_STATE = 0; // 0 idle, 1 request pending, 2 done ok, 3 done with error
export const C_OP = 1; // 1 read, 2 write, 3 flush
export const C_LBA_LO = 2;
export const C_LBA_HI = 3;
export const C_COUNT = 4;
export const DATA_OFFSET = CTRL_INTS * 4;
/** Largest transfer per request; bigger FatFs requests are split by the worker. */
export const DATA_BYTES = 1024 * 1024;

export const OP_READ = 1;
export const OP_WRITE = 2;
export const OP_FLUSH = 3;

export interface WorkerInit {
  shared: SharedArrayBuffer;
  name: string;
  sectorSize: number;
  sectorCount: number;
  readOnly: boolean;
  /** Record each update in this file before writing it (see update-log.ts). */
  updateLog?: { path: string; card: string; partitionStart: number };
}

export type Method = 'mount' | 'writeFile' | 'readFile' | 'tryStat' | 'list' | 'mkdir' | 'rename' | 'unlink' | 'info' | 'unmount';

/**
 * The device a worker serves next. A worker is started before it is needed (it loads FatFs and
 * compiles its WASM meanwhile) and serves one mount after another: each begins with this.
 */
export interface InitMessage {
  kind: 'init';
  init: WorkerInit;
}

export interface CallMessage {
  kind: 'call';
  id: number;
  method: Method;
  args: unknown[];
}

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
  exitCode?: number;
}

export type WorkerMessage =
  | { kind: 'io' }
  | { kind: 'progress'; id: number; event: unknown }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number; error: SerializedError };

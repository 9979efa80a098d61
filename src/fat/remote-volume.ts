import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BlockDevice } from '../disk/block-device.js';
import { DeviceError, FormatError, FwcardError, IoError, UsageError } from '../errors.js';
import type { ProgressListener } from '../progress.js';
import type { FatEntry, FatFileSystem, FatInfo } from './file-system.js';
import { C_COUNT, C_LBA_HI, C_LBA_LO, C_OP, C_STATE, CTRL_INTS, DATA_BYTES, DATA_OFFSET, OP_FLUSH, OP_READ, type Method, type InitMessage, type SerializedError, type WorkerInit, type WorkerMessage } from './worker-protocol.js';
import type { VolumeIdentity } from './update-log.js';

function workerPath(): string {
  const here = fileURLToPath(import.meta.url);
  // Under the test runner this module is the TypeScript source; the worker runs built code.
  const built = here.endsWith('.ts') ? join(dirname(here), '..', '..', 'dist', 'fat', 'fat-worker.js') : join(dirname(here), 'fat-worker.js');
  if (!existsSync(built)) throw new Error(`internal: FatFs worker not built at ${built} (run npm run build)`);
  return built;
}

/**
 * A started worker waiting for its next mount. Starting one (a thread, the worker's modules,
 * FatFs's WASM) takes about 0.1 s, so a flow that will mount starts it early (`warm`), and an
 * unmounted volume's worker waits here for the next mount (flash-sdcard mounts again after the
 * reset). Unref'd while idle: it never keeps the process alive.
 */
let spare: Worker | undefined;

function startWorker(): Worker {
  const w = new Worker(workerPath());
  // A spare that fails before it is used is dropped, not reported: the next mount starts another.
  w.once('error', () => {
    if (spare === w) spare = undefined;
  });
  w.once('exit', () => {
    if (spare === w) spare = undefined;
  });
  return w;
}

const ERROR_CLASSES: Record<string, new (code: string, message: string, o: object) => FwcardError> = {
  IoError, FormatError, UsageError, DeviceError,
};

/**
 * The FatFileSystem of a device that can only answer asynchronously (an SD card behind a
 * Klipper MCU): FatFs runs in a worker thread and blocks on a shared buffer while this thread
 * talks to the device. Errors the device raises reach the caller as the same typed errors.
 */
export class RemoteFatVolume implements FatFileSystem {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; progress?: ProgressListener | undefined }>();
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private lastIoError: unknown;
  private ioChain: Promise<void> = Promise.resolve();

  private readonly onWorkerMessage = (m: WorkerMessage): void => this.onMessage(m);
  private readonly onWorkerError = (e: unknown): void => this.failAll(e);
  private broken = false;

  private constructor(private readonly worker: Worker, shared: SharedArrayBuffer, private readonly dev: BlockDevice) {
    this.ctrl = new Int32Array(shared, 0, CTRL_INTS);
    this.data = new Uint8Array(shared, DATA_OFFSET, DATA_BYTES);
    worker.on('message', this.onWorkerMessage);
    worker.on('error', this.onWorkerError);
  }

  /** Start a worker now, so the next mount does not wait for one (a no-op when one waits already). */
  static warm(): void {
    if (spare) return;
    spare = startWorker();
    spare.unref();
  }

  /** With `updateLog`, every update is recorded in that file first (see update-log.ts). */
  static async mount(dev: BlockDevice, o: { updateLog?: { path: string } & VolumeIdentity } = {}): Promise<RemoteFatVolume> {
    const shared = new SharedArrayBuffer(DATA_OFFSET + DATA_BYTES);
    const init: WorkerInit = { shared, name: dev.name, sectorSize: dev.sectorSize, sectorCount: dev.sectorCount, readOnly: dev.readOnly, ...(o.updateLog ? { updateLog: o.updateLog } : {}) };
    const worker = spare ?? startWorker();
    spare = undefined;
    worker.ref();
    worker.postMessage({ kind: 'init', init } satisfies InitMessage);
    const v = new RemoteFatVolume(worker, shared, dev);
    try {
      await v.call('mount', []);
    } catch (e) {
      await worker.terminate();
      throw e;
    }
    return v;
  }

  private onMessage(m: WorkerMessage): void {
    if (m.kind === 'io') {
      this.ioChain = this.ioChain.then(() => this.serveIo());
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.kind === 'progress') {
      p.progress?.(m.event as never);
      return;
    }
    this.pending.delete(m.id);
    if (m.kind === 'result') p.resolve(m.value);
    else p.reject(this.revive(m.error));
  }

  /** Serve one sector request from the worker on the real device. */
  private async serveIo(): Promise<void> {
    const op = this.ctrl[C_OP]!;
    const lba = (this.ctrl[C_LBA_HI]! * 0x100000000) + (this.ctrl[C_LBA_LO]! >>> 0);
    const count = this.ctrl[C_COUNT]!;
    let ok = true;
    try {
      if (op === OP_READ) {
        this.data.set(await this.dev.read(lba, count), 0);
      } else if (op === OP_FLUSH) {
        await this.dev.flush();
      } else {
        await this.dev.write(lba, this.data.slice(0, count * this.dev.sectorSize));
      }
    } catch (e) {
      ok = false;
      this.lastIoError = e;
    }
    Atomics.store(this.ctrl, C_STATE, ok ? 2 : 3);
    Atomics.notify(this.ctrl, C_STATE);
  }

  private revive(e: SerializedError): unknown {
    // A disk error inside FatFs is the device's failure: report the device's own typed error.
    if (this.lastIoError && (e.code === 'fat-disk-error' || e.code === 'remote-io-failed')) {
      const io = this.lastIoError;
      this.lastIoError = undefined;
      return io;
    }
    const Cls = ERROR_CLASSES[e.name];
    if (!Cls) return new Error(e.message);
    return new Cls(e.code, e.message, { hint: e.hint, details: e.details, exitCode: e.exitCode });
  }

  private failAll(e: unknown): void {
    this.broken = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private call(method: Method, args: unknown[], progress?: ProgressListener): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress });
      this.worker.postMessage({ kind: 'call', id, method, args });
    });
  }

  async writeFile(path: string, data: Uint8Array, onProgress?: ProgressListener): Promise<void> {
    await this.call('writeFile', [path, data], onProgress);
  }
  async readFile(path: string, onProgress?: ProgressListener): Promise<Uint8Array> {
    return (await this.call('readFile', [path], onProgress)) as Uint8Array;
  }
  async tryStat(path: string): Promise<FatEntry | undefined> {
    return ((await this.call('tryStat', [path])) as FatEntry | null) ?? undefined;
  }
  async list(dir = '/'): Promise<FatEntry[]> {
    return (await this.call('list', [dir])) as FatEntry[];
  }
  async mkdir(path: string): Promise<void> {
    await this.call('mkdir', [path]);
  }
  async rename(from: string, to: string): Promise<void> {
    await this.call('rename', [from, to]);
  }
  async unlink(path: string): Promise<void> {
    await this.call('unlink', [path]);
  }
  async info(): Promise<FatInfo> {
    return (await this.call('info', [])) as FatInfo;
  }
  /**
   * Flush FatFs and let the worker go: it waits for the next mount when it unmounted cleanly and
   * no other waits already; otherwise it is stopped. The device stays open.
   */
  async unmount(): Promise<void> {
    let clean = false;
    try {
      await this.call('unmount', []);
      clean = !this.broken;
    } finally {
      this.worker.off('message', this.onWorkerMessage);
      this.worker.off('error', this.onWorkerError);
      if (clean && !spare) {
        spare = this.worker;
        this.worker.unref();
      } else {
        await this.worker.terminate();
      }
    }
  }
}

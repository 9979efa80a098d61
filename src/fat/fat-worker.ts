/** Worker side: FatFs (through FatVolume) over a synchronous proxy of the main thread's device. */
import { parentPort } from 'node:worker_threads';
import type { SyncBlockDevice } from '../disk/block-device.js';
import { IoError, isFwcardError } from '../errors.js';
import { FatVolume } from './fat-volume.js';
import { loadFatFs } from './fatfs-glue.js';
import { UpdateLogFile } from './update-log.js';
import { C_COUNT, C_LBA_HI, C_LBA_LO, C_OP, C_STATE, DATA_BYTES, DATA_OFFSET, OP_FLUSH, OP_READ, OP_WRITE, type CallMessage, type InitMessage, type WorkerInit, type WorkerMessage } from './worker-protocol.js';

const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);

/** The device of the current mount (set by each InitMessage). */
let init!: WorkerInit;
let ctrl!: Int32Array;
let data!: Uint8Array;
let maxSectors = 0;

function attach(i: WorkerInit): void {
  init = i;
  ctrl = new Int32Array(i.shared, 0, DATA_OFFSET / 4);
  data = new Uint8Array(i.shared, DATA_OFFSET, DATA_BYTES);
  maxSectors = Math.floor(DATA_BYTES / i.sectorSize);
}

// Load FatFs and compile its WASM while the main thread is still connecting to the board.
void loadFatFs().catch(() => undefined);

/** One blocking round trip to the main thread. */
function request(op: number, lba: number, count: number): void {
  ctrl[C_OP] = op;
  ctrl[C_LBA_LO] = lba % 0x100000000 | 0;
  ctrl[C_LBA_HI] = Math.floor(lba / 0x100000000);
  ctrl[C_COUNT] = count;
  Atomics.store(ctrl, C_STATE, 1);
  post({ kind: 'io' });
  while (Atomics.load(ctrl, C_STATE) === 1) Atomics.wait(ctrl, C_STATE, 1);
  const state = Atomics.load(ctrl, C_STATE);
  Atomics.store(ctrl, C_STATE, 0);
  if (state !== 2) throw new IoError('remote-io-failed', `${init.name}: sector ${op === OP_WRITE ? 'write' : op === OP_READ ? 'read' : 'flush'} at ${lba} failed`);
}

const proxy: SyncBlockDevice = {
  get name() {
    return init.name;
  },
  get sectorSize() {
    return init.sectorSize;
  },
  get sectorCount() {
    return init.sectorCount;
  },
  get readOnly() {
    return init.readOnly;
  },
  readSync(lba, count, into) {
    const out = into ?? new Uint8Array(count * init.sectorSize);
    for (let done = 0; done < count; ) {
      const n = Math.min(maxSectors, count - done);
      request(OP_READ, lba + done, n);
      out.set(data.subarray(0, n * init.sectorSize), done * init.sectorSize);
      done += n;
    }
    return out;
  },
  writeSync(lba, bytes) {
    const count = bytes.byteLength / init.sectorSize;
    for (let done = 0; done < count; ) {
      const n = Math.min(maxSectors, count - done);
      data.set(bytes.subarray(done * init.sectorSize, (done + n) * init.sectorSize), 0);
      request(OP_WRITE, lba + done, n);
      done += n;
    }
  },
  flushSync() {
    request(OP_FLUSH, 0, 0);
  },
};

let vol: FatVolume | null = null;

port.on('message', async (m: CallMessage | InitMessage) => {
  if (m.kind === 'init') {
    attach(m.init);
    return;
  }
  try {
    let value: unknown;
    const progress = (event: unknown) => post({ kind: 'progress', id: m.id, event });
    if (m.method === 'mount') {
      const log = init.updateLog;
      vol = await FatVolume.mount(proxy, log ? { updateLog: new UpdateLogFile(log.path, { card: log.card, partitionStart: log.partitionStart }) } : {});
      value = true;
    } else {
      if (!vol) throw new IoError('fat-unmounted', `${init.name}: not mounted`);
      const a = m.args as any[];
      switch (m.method) {
        case 'writeFile': vol.writeFile(a[0], a[1], progress); break;
        case 'readFile': value = vol.readFile(a[0], progress); break;
        case 'tryStat': value = vol.tryStat(a[0]) ?? null; break;
        case 'list': value = vol.list(a[0]); break;
        case 'mkdir': vol.mkdir(a[0]); break;
        case 'rename': vol.rename(a[0], a[1]); break;
        case 'unlink': vol.unlink(a[0]); break;
        case 'info': value = vol.info(); break;
        case 'unmount': vol.unmount(); vol = null; break;
      }
    }
    post({ kind: 'result', id: m.id, value });
  } catch (e) {
    const err = e as any;
    post({
      kind: 'error',
      id: m.id,
      error: isFwcardError(e)
        ? { name: err.name, code: err.code, message: err.message, hint: err.hint, details: err.details, exitCode: err.exitCode }
        : { name: 'Error', code: 'internal', message: String(err?.stack ?? e) },
    });
  }
});

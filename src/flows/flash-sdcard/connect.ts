import { existsSync, realpathSync } from 'node:fs';
import { DeviceError, IoError, isFwcardError } from '../../errors.js';
import { McuSession } from '../../klipper/session.js';
import type { ProgressListener, Trace } from '../../progress.js';
import { SerialTransport } from '../../transport/serial-port.js';
import type { Transport } from '../../transport/transport.js';
import { pause } from './stop.js';

export type TransportFactory = (path: string, baud: number) => Transport;

export const serialTransport: TransportFactory = (path, baud) => new SerialTransport({ path, baudRate: baud });

export interface ConnectOptions {
  device: string;
  baud: number;
  transport: TransportFactory;
  /** Keep trying this long (Klipper's script: 60 s). */
  timeoutMs: number;
  onProgress?: ProgressListener;
  trace?: Trace;
  /** A stop (Ctrl-C): the retries and their pauses end at once, rejecting with its reason. */
  signal?: AbortSignal;
}

/** Causes that waiting will not cure: report them at once. */
const PERMANENT = new Set(['port-busy', 'permission-denied', 'serial-unavailable', 'not-a-serial-port']);

/** How long a device path that does not exist yet may take to appear (a board enumerating). */
const APPEAR_MS = 5000;

/**
 * Open the port and identify the MCU, retrying until the deadline as Klipper's flash script
 * does (a board still booting, a USB device still enumerating). A busy port or a permission
 * problem is reported at once: waiting does not fix those.
 */
export async function connectMcu(o: ConnectOptions): Promise<McuSession> {
  const deadline = Date.now() + o.timeoutMs;
  if (o.device.startsWith('/') && !existsSync(o.device)) {
    const until = Date.now() + Math.min(APPEAR_MS, o.timeoutMs);
    while (!existsSync(o.device) && Date.now() < until) await pause(100, o.signal);
    if (!existsSync(o.device)) {
      throw new IoError('no-such-device', `${o.device} does not exist`, {
        hint: 'Is the board connected and powered? List the serial devices with `ls /dev/serial/by-id/` (USB) or check the UART path (e.g. /dev/ttyAMA0).',
        details: { device: o.device },
      });
    }
  }
  let last: unknown;
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    o.onProgress?.({ phase: 'connect', label: attempt === 1 ? `connecting to ${o.device}` : `connecting to ${o.device} (attempt ${attempt}, ${left}s left)` });
    const transport = o.transport(o.device, o.baud);
    const session = new McuSession({ transport, connectTimeoutMs: Math.min(5000, Math.max(1000, deadline - Date.now())), ...(o.trace ? { trace: o.trace } : {}) });
    // A stop during an attempt closes its port: the identify waiting on it ends at once.
    const abandon = (): void => void session.close().catch(() => undefined);
    o.signal?.addEventListener('abort', abandon, { once: true });
    try {
      await transport.open();
      await session.connect();
      o.signal?.throwIfAborted();
      o.onProgress?.({ phase: 'connect', label: `connected to ${o.device}`, done: true });
      return session;
    } catch (e) {
      last = e;
      await session.close().catch(() => undefined);
      o.signal?.throwIfAborted();
      if (isFwcardError(e) && PERMANENT.has(e.code)) throw e;
      if (Date.now() + 500 >= deadline) break;
      o.trace?.('flash-sdcard', `connect attempt ${attempt} failed: ${(e as Error).message}`);
      await pause(Math.min(1000, Math.max(0, deadline - Date.now())), o.signal);
    } finally {
      o.signal?.removeEventListener('abort', abandon);
    }
  }
  const cause = last as Error | undefined;
  throw new DeviceError('unable-to-connect', `Unable to connect to MCU on ${o.device} within ${Math.round(o.timeoutMs / 1000)} s${cause ? `: ${cause.message}` : ''}`, {
    hint: isFwcardError(last) && last.hint ? last.hint : `Check the device path (ls /dev/serial/by-id/), the baud rate (-b, default 250000) and that the board runs Klipper.`,
    details: { device: o.device, cause: isFwcardError(last) ? last.code : null },
    cause: last,
  });
}

/**
 * How long a board's device node may take to leave after the reset (Klipper's script sleeps
 * 1 s before it looks; a USB MCU drops off the bus the moment it resets, and the kernel removes
 * its node within milliseconds). A UART's node stays; its bootloader runs while the port is
 * quiet, and connecting (identify, retried until it is answered) waits for it: no fixed sleep
 * after this. A node that outlives this wait costs a connect retry, not the run: connectMcu
 * waits for a missing node to appear and retries an open or identify that fails.
 */
const VANISH_MS = 500;

/**
 * After a reset, wait for the board to come back. A USB board re-enumerates: its device node
 * (and the /dev/serial/by-id link) disappears and returns; a UART stays put and just goes quiet
 * while the bootloader runs.
 */
export async function waitForReturn(device: string, o: { timeoutMs: number; onProgress?: ProgressListener; signal?: AbortSignal }): Promise<void> {
  const start = Date.now();
  let target: string | null = null;
  try {
    target = realpathSync(device);
  } catch {
    target = null;
  }
  o.onProgress?.({ phase: 'reset', label: `waiting for ${device} to come back after the reset` });
  let vanished = false;
  while (Date.now() - start < VANISH_MS) {
    if (!existsSync(device)) {
      vanished = true;
      break;
    }
    await pause(25, o.signal);
  }
  if (!vanished) {
    o.onProgress?.({ phase: 'reset', label: `${device} stayed (a UART): connecting while the bootloader runs`, done: true });
    return;
  }
  let shown = -1;
  while (Date.now() - start < o.timeoutMs) {
    if (existsSync(device)) return;
    // Polled often (the board is back as soon as its node is), told once a second.
    const left = Math.ceil((o.timeoutMs - (Date.now() - start)) / 1000);
    if (left !== shown) o.onProgress?.({ phase: 'reset', label: `waiting for ${device} to come back (${(shown = left)}s left)` });
    await pause(20, o.signal);
  }
  throw new DeviceError('unable-to-reconnect', `Unable to reconnect: ${device}${target && target !== device ? ` (${target})` : ''} did not come back within ${Math.round(o.timeoutMs / 1000)} s after the reset`, {
    hint: 'The bootloader may still be flashing, or the new firmware does not start (wrong offset or interface?). Power-cycle the board; then run again with -c to check what it runs.',
    details: { device },
  });
}

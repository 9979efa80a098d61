import { DeviceError, isFwcardError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import { McuSession, type McuSessionOptions } from './session.js';

export interface ReconnectOptions extends Omit<McuSessionOptions, 'transport'> {
  /** Give up after this long (ms). Klipper's flash script waits up to 60 s. */
  totalTimeoutMs?: number;
  /** Pause between attempts (ms). */
  intervalMs?: number;
}

/** Errors that mean "not back yet": the device node is missing, or nothing answers. */
const TRANSIENT = new Set(['no-such-device', 'no-response', 'disconnected', 'closed', 'not-klipper', 'serial-open-failed']);

/**
 * Connect to an MCU that may still be rebooting (after `reset` its USB device re-enumerates
 * and a UART board is silent while the bootloader runs): retry until it identifies or the
 * time is up. `makeTransport` gives a fresh transport for each attempt.
 */
export async function connectWithRetry(makeTransport: () => Transport, o: ReconnectOptions = {}): Promise<McuSession> {
  const deadline = performance.now() + (o.totalTimeoutMs ?? 60_000);
  const interval = o.intervalMs ?? 250;
  let last: unknown;
  let attempts = 0;
  for (;;) {
    attempts++;
    const session = new McuSession({ ...o, transport: makeTransport(), connectTimeoutMs: o.connectTimeoutMs ?? 2000 });
    try {
      await session.connect();
      return session;
    } catch (e) {
      last = e;
      await session.close();
      const code = isFwcardError(e) ? e.code : '';
      if (!TRANSIENT.has(code)) throw e;
      o.trace?.('klipper', `reconnect attempt ${attempts} failed: ${code}`);
    }
    if (performance.now() + interval > deadline) break;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new DeviceError('mcu-did-not-return', `the MCU did not come back after ${attempts} attempts`, {
    hint: 'It may be stuck in its bootloader or have failed to start the new firmware. Power-cycle the board and check it with `fwcard mcu-info`.',
    details: { attempts, lastError: isFwcardError(last) ? last.code : String(last) },
    cause: last,
  });
}

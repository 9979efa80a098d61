import { existsSync } from 'node:fs';
import { McuSession, type McuConfigState } from '../klipper/session.js';
import { SerialTransport } from '../transport/serial-port.js';
import type { Transport } from '../transport/transport.js';
import type { Trace } from '../progress.js';

export interface McuInfoOptions {
  /** Serial device of a board running Klipper. */
  device: string;
  /** UART baud rate (USB CDC ports ignore it). */
  baud: number;
  /** How long to wait for the MCU to answer, ms: connecting and each request. */
  timeoutMs: number;
  /** Default: the real serial port at `device`. */
  transport?: (path: string, baud: number) => Transport;
  /** Protocol trace lines (the CLI's --verbose). */
  trace?: Trace;
}

/** What `fwcard mcu-info --json` prints: the MCU's identify data and its state. */
export interface McuInfo {
  ok: true;
  device: string;
  app: string | null;
  version: string;
  buildVersions: string;
  mcu: string | number | null;
  clockFreq: number | null;
  /** null: the MCU did not answer get_config (state unknown). */
  isConfig: boolean | null;
  isShutdown: boolean | null;
  configCrc: number | null;
  moveCount: number | null;
  shutdownReason: string | null;
  serialBaud: number | null;
  receiveWindow: number | null;
  constants: Record<string, string | number>;
  commands: number;
  responses: number;
}

/** How long a missing device path may take to appear: a USB board re-enumerating after a reset. */
const APPEAR_MS = 5000;

/**
 * Wait up to `ms` for a device path that is not there yet. Right after `flash-sdcard` (which
 * ends with a reset, as Klipper's script does) a USB board is off the bus for a second or two;
 * `mcu-info` asked then finds the board instead of "no such device". A path that never appears
 * is reported by the open as before.
 */
async function appeared(device: string, ms: number): Promise<void> {
  if (!device.startsWith('/')) return;
  const until = Date.now() + ms;
  while (!existsSync(device) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Connect to a Klipper MCU, identify it and read its state; the session is always closed.
 * Only identify is required: an MCU that does not answer get_config (a foreign or half-booted
 * firmware) still gets its dictionary shown, with the state unknown.
 */
export async function mcuInfo(opts: McuInfoOptions): Promise<McuInfo> {
  await appeared(opts.device, Math.min(APPEAR_MS, opts.timeoutMs));
  const transport = opts.transport?.(opts.device, opts.baud) ?? new SerialTransport({ path: opts.device, baudRate: opts.baud });
  const session = new McuSession({ transport, connectTimeoutMs: opts.timeoutMs, timeoutMs: opts.timeoutMs, trace: opts.trace });
  try {
    const dict = await session.connect();
    let state: McuConfigState | undefined;
    try {
      state = await session.getConfig();
    } catch (e) {
      opts.trace?.('klipper', `get_config failed: ${(e as Error).message}`);
    }
    // The reason is asked only of an MCU that says it is shut down; a failed ask is not fatal.
    const asked = state?.isShutdown ? await session.shutdownReason().catch(() => undefined) : undefined;
    return {
      ok: true,
      device: opts.device,
      app: dict.app || null,
      version: dict.version,
      buildVersions: dict.buildVersions,
      mcu: dict.constant('MCU') ?? null,
      clockFreq: dict.constantNumber('CLOCK_FREQ') ?? null,
      isConfig: state?.isConfig ?? null,
      isShutdown: state?.isShutdown ?? null,
      configCrc: state?.crc ?? null,
      moveCount: state?.moveCount ?? null,
      shutdownReason: asked ?? session.lastShutdown?.reason ?? null,
      serialBaud: dict.constantNumber('SERIAL_BAUD') ?? null,
      receiveWindow: dict.constantNumber('RECEIVE_WINDOW') ?? null,
      constants: { ...dict.constants },
      commands: dict.formats().commands.length,
      responses: dict.formats().responses.length,
    };
  } finally {
    await session.close();
  }
}

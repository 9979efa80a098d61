import { existsSync } from 'node:fs';
import { DeviceError } from '../../errors.js';
import type { McuSession } from '../../klipper/session.js';
import { noProgress, type ProgressListener, type Trace } from '../../progress.js';
import { connectMcu, waitForReturn, type TransportFactory } from './connect.js';

/** Klipper's default baud rate for a UART link (flash-sdcard.sh -b). */
export const DEFAULT_BAUD = 250000;

export interface McuLinkOptions {
  device: string;
  baud: number;
  transport: TransportFactory;
  connectTimeoutMs: number;
  reconnectTimeoutMs: number;
  onProgress?: ProgressListener;
  trace?: Trace;
  /** A stop (Ctrl-C): connecting and the reconnect wait end at once, rejecting with its reason. */
  signal?: AbortSignal;
}

/**
 * The serial link to the board's MCU across its resets: one session at a time, replaced by
 * `restart` (reset, wait for the board to come back, connect again).
 */
export class McuLink {
  private current: McuSession | null = null;
  private readonly progress: ProgressListener;
  /** Decided before the first reset: by the time of a reset a USB board's node may be gone. */
  private readonly isPath: boolean;

  constructor(private readonly o: McuLinkOptions) {
    this.progress = o.onProgress ?? noProgress;
    this.isPath = existsSync(o.device);
  }

  /** The connected session. */
  get session(): McuSession {
    if (!this.current) throw new DeviceError('not-connected', `not connected to ${this.o.device}`, { hint: 'A bug: the flow used the link while it was closed.' });
    return this.current;
  }

  get mcu(): string {
    return String(this.session.dictionary.constant('MCU') ?? '');
  }

  get version(): string | null {
    return this.session.dictionary.version || null;
  }

  async connect(): Promise<McuSession> {
    const { device, baud, transport, connectTimeoutMs: timeoutMs, trace, signal } = this.o;
    this.current = await connectMcu({ device, baud, transport, timeoutMs, onProgress: this.progress, ...(trace ? { trace } : {}), ...(signal ? { signal } : {}) });
    return this.current;
  }

  /**
   * Reset the MCU and connect again once it is back. A USB board re-enumerates after a reset:
   * follow its device path. A link that is not a path (an in-process simulator) just comes
   * back, and connect() retries until it does.
   */
  async restart(): Promise<McuSession> {
    const session = this.session;
    this.current = null;
    await session.reset();
    if (this.isPath) await waitForReturn(this.o.device, { timeoutMs: this.o.reconnectTimeoutMs, onProgress: this.progress, ...(this.o.signal ? { signal: this.o.signal } : {}) });
    return this.connect();
  }

  /** A configured or shut-down MCU will not take a new configuration: restart it first. */
  async restartIfConfigured(): Promise<void> {
    const state = await this.session.getConfig();
    if (!state.isConfig && !state.isShutdown) return;
    this.progress({ phase: 'reset', label: `the MCU is ${state.isShutdown ? 'shut down' : 'configured'}: resetting it` });
    await this.restart();
  }

  /**
   * Reset the MCU and let go of the port, without waiting for it: how Klipper's flash script
   * ends every run (scripts/spi_flash/spi_flash.py, run_verify), so the board is left
   * unconfigured, as Klipper's host expects to find it.
   */
  async resetAndClose(): Promise<void> {
    const session = this.current;
    this.current = null;
    this.progress({ phase: 'reset', label: 'resetting the MCU (leaving it unconfigured, as Klipper does)' });
    await session?.reset();
  }

  async close(): Promise<void> {
    const session = this.current;
    this.current = null;
    await session?.close();
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { IoError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import type { Simulator } from './simulator.js';

export interface PtyServerOptions {
  /** Where the pseudo-terminal's symlink goes (like /dev/serial/by-id/… for a real board). */
  path: string;
  trace?: (line: string) => void;
  /** How long to wait for socat to create the pty (ms). */
  startTimeoutMs?: number;
}

/**
 * Serve a simulator behind a real pseudo-terminal made by socat, so programs that open a
 * serial port (fwcard itself, Klipper's host, a terminal) talk to it unchanged:
 *   socat pty,raw,echo=0,link=<path> STDIO
 * socat's stdio is our end of the wire. When the simulated USB board resets, socat is
 * stopped so the path disappears, and started again when the board "re-enumerates".
 */
export class PtyServer {
  private child: ChildProcess | undefined;
  private host: Transport | undefined;
  private closed = false;
  private readonly offPresence: () => void;

  private constructor(
    private readonly sim: Simulator,
    readonly opts: PtyServerOptions,
  ) {
    this.offPresence = sim.onPresence((present) => {
      if (present && !this.closed) void this.start().catch((e) => this.opts.trace?.(`pty restart failed: ${(e as Error).message}`));
    });
  }

  static async serve(sim: Simulator, opts: PtyServerOptions): Promise<PtyServer> {
    const s = new PtyServer(sim, opts);
    await s.start();
    return s;
  }

  get path(): string {
    return this.opts.path;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async start(): Promise<void> {
    removeStaleLink(this.opts.path);
    const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.opts.path}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'ENOENT'
            ? new IoError('socat-missing', 'socat is not installed', { hint: 'Install it: `sudo apt install socat` (Debian/Ubuntu) or `brew install socat`.', cause: e })
            : new IoError('socat-failed', `could not start socat: ${e.message}`, { cause: e }),
        ),
      );
      child.once('spawn', () => resolve());
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      this.opts.trace?.(`socat: ${b.toString().trim()}`);
    });
    await spawned;
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 5000);
    while (!existsSync(this.opts.path)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill();
        throw new IoError('pty-failed', `socat did not create ${this.opts.path}`, {
          hint: 'Check that the directory exists and is writable.',
          details: { stderr: stderr.trim() },
        });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const host = this.sim.connect(this.opts.path);
    await host.open();
    this.host = host;
    child.stdout!.on('data', (b: Buffer) => {
      if (host.isOpen) void host.write(new Uint8Array(b.buffer, b.byteOffset, b.length)).catch(() => undefined);
    });
    child.stdin!.on('error', () => undefined);
    host.onData((b) => {
      if (!child.stdin!.destroyed) child.stdin!.write(b);
    });
    host.onClose((cause) => {
      // The board left the bus (USB reset): take the device node away with it.
      if (cause) this.stopChild();
    });
    child.once('exit', (code, signal) => {
      const unexpected = this.child === child && !this.closed;
      if (this.child === child) this.child = undefined;
      if (host.isOpen) void host.close();
      if (unexpected) {
        // socat went away on its own: bring the port back rather than leave a dead path.
        this.opts.trace?.(`socat exited (${signal ?? code}); restarting`);
        setTimeout(() => {
          if (!this.closed && !this.child && (this.sim.link.kind !== 'usb' || this.sim.isPresent)) {
            void this.start().catch((e) => this.opts.trace?.(`pty restart failed: ${(e as Error).message}`));
          }
        }, 200);
      }
    });
  }

  private stopChild(): void {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null) c.kill('SIGTERM');
  }

  /** Stop serving: socat ends and the path is removed. */
  async close(): Promise<void> {
    this.closed = true;
    this.offPresence();
    const c = this.child;
    this.stopChild();
    if (c && c.exitCode === null) await new Promise((r) => c.once('exit', r));
    await this.host?.close();
    removeStaleLink(this.opts.path);
  }
}

function removeStaleLink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
  } catch {
    /* absent */
  }
}

export function servePty(sim: Simulator, opts: PtyServerOptions): Promise<PtyServer> {
  return PtyServer.serve(sim, opts);
}

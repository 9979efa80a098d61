import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync, unlinkSync } from 'node:fs';
import { IoError, UsageError } from '../errors.js';
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
  /** Where the link socat made points (/dev/pts/N): the only link at the path we may remove. */
  private ownTarget: string | null = null;

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
    // socat's link= replaces whatever is at the path, and we remove the path on exit: never
    // let that be someone's file. Only our own link (or a dead simulator's) gives way.
    claimPortLink(this.opts.path, this.ownTarget);
    removeOwnLink(this.opts.path, this.ownTarget);
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
    this.ownTarget = linkTarget(this.opts.path);
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
    removeOwnLink(this.opts.path, this.ownTarget);
  }
}

/** Where the symlink at `path` points; null when there is none (or it is not a symlink). */
function linkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}

/** A pseudo-terminal's node, as socat's link= names it. */
const PTS = /^\/dev\/pts\/\d+$/;

/**
 * May we serve at `path`? Yes when nothing is there, when it is the link we made ourselves
 * (socat is restarted while a USB board re-enumerates), or when it is a simulator's stale link:
 * a symlink to a /dev/pts/N that no longer exists (a simulator killed with SIGKILL leaves one).
 * Anything else — a file, a directory, another link, a live pty's link — is refused.
 */
export function claimPortLink(path: string, ownTarget: string | null = null): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  const target = st.isSymbolicLink() ? readlinkSync(path) : null;
  if (target !== null && (target === ownTarget || (PTS.test(target) && !existsSync(target)))) return;
  const what =
    target === null ? (st.isDirectory() ? 'a directory' : st.isFile() ? 'a file' : 'something other than a link')
    : PTS.test(target) ? `a link to ${target}, a pseudo-terminal in use (another simulator?)`
    : `a link to ${target}`;
  throw new UsageError('port-link-exists', `${path} already exists (${what}): the simulator will not replace it`, {
    hint: `Choose another --port-link path that does not exist yet${PTS.test(target ?? '') ? ', or stop the simulator serving there' : ''}; fwcard simulate creates the link and removes it when it stops.`,
    details: { path, what },
  });
}

/** Remove the link at `path` if it is ours (ownTarget) or a stale pty link; nothing else. */
function removeOwnLink(path: string, ownTarget: string | null): void {
  const target = linkTarget(path);
  if (target === null) return;
  if (target !== ownTarget && !(PTS.test(target) && !existsSync(target))) return;
  try {
    unlinkSync(path);
  } catch {
    /* gone already */
  }
}

export function servePty(sim: Simulator, opts: PtyServerOptions): Promise<PtyServer> {
  return PtyServer.serve(sim, opts);
}

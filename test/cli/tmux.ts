/**
 * A real terminal for tests: a detached tmux session on a private socket, driven with
 * send-keys and read with capture-pane. Needs tmux (Debian package `tmux`).
 */
import { spawnSync } from 'node:child_process';

export class Tmux {
  private readonly socket = `fwcard-test-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;

  constructor(command: string, opts: { cwd?: string; env?: Record<string, string>; width?: number; height?: number } = {}) {
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    this.tmux(['new-session', '-d', '-s', 't', '-x', String(opts.width ?? 160), '-y', String(opts.height ?? 40), ...(opts.cwd ? ['-c', opts.cwd] : []), ...env, command]);
  }

  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr}`);
    return r.stdout;
  }

  /** Keys as tmux names them ("Enter", "Tab", "Down", "C-c") or literal text with `literal`. */
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', 't', ...keys]);
  }

  type(text: string): void {
    this.tmux(['send-keys', '-t', 't', '-l', text]);
  }

  screen(): string {
    return this.tmux(['capture-pane', '-p', '-t', 't']);
  }

  alive(): boolean {
    return spawnSync('tmux', ['-L', this.socket, 'has-session', '-t', 't']).status === 0;
  }

  /** Wait until the screen matches; throws with the screen when it does not within `ms`. */
  async waitFor(re: RegExp, ms = 10_000): Promise<string> {
    const end = Date.now() + ms;
    let s = '';
    while (Date.now() < end) {
      s = this.alive() ? this.screen() : s;
      if (re.test(s)) return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`screen never matched ${re}:\n${s}`);
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

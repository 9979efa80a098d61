import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './judges.js';

/**
 * `fwcard simulate …` as a child process, resolved once it serves its pty. `stopAll` ends every
 * simulator a test file started (call it in afterAll).
 */
export class SimulateProcesses {
  private readonly children: ChildProcess[] = [];

  async start(args: string[], timeoutMs = 15_000): Promise<ChildProcess> {
    const c = spawn(process.execPath, [CLI, 'simulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(c);
    let out = '';
    c.stdout!.on('data', (b) => (out += b));
    c.stderr!.on('data', (b) => (out += b));
    const deadline = Date.now() + timeoutMs;
    while (!out.includes('serial port:')) {
      if (c.exitCode !== null || Date.now() > deadline) throw new Error(`simulate did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return c;
  }

  async stop(c: ChildProcess): Promise<void> {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await gone;
  }

  async stopAll(): Promise<void> {
    for (const c of this.children) await this.stop(c);
  }
}

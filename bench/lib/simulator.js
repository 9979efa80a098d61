// Shared by the bench scripts: start `fwcard simulate` on a card image behind a pty link and
// wait until it serves (it prints "serial port:"). Not a benchmark itself.
import { spawn } from 'node:child_process';

/** The simulator's process, once it serves on `tty`; throws with its output if it does not start in 15 s. */
export async function startSimulator({ cli, board, card, link, tty, env = process.env }) {
  const sim = spawn(process.execPath, [cli, 'simulate', '--board', board, '--card', card, '--link', link, '--port-link', tty], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  sim.stdout.on('data', (b) => (out += b));
  sim.stderr.on('data', (b) => (out += b));
  const deadline = Date.now() + 15000;
  while (!out.includes('serial port:')) {
    if (sim.exitCode !== null || Date.now() > deadline) {
      sim.kill('SIGKILL');
      throw new Error(`simulate did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return sim;
}

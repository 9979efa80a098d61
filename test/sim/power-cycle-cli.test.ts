import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { build, makeCard } from '../flash-sdcard/helpers.js';

// The Octopus's bootloader reads the card over SDIO, which it can do only after the power was
// cut (the card stays in SPI mode through a reset). `fwcard simulate` power-cycles on SIGUSR1
// or a "power-cycle" line on stdin, so the whole flow runs as a user would run it (issue 15).
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});

function fwcard(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** Resolves with the simulator's output once it contains `text`. */
function waitFor(c: ChildProcess, text: RegExp, ms = 20_000): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulate never said ${text}: ${out}`)), ms);
    const on = (b: Buffer) => {
      out += b;
      if (text.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    c.stdout!.on('data', on);
    c.stderr!.on('data', on);
  });
}

describe('fwcard simulate: power cycle', () => {
  it('Octopus (SDIO bootloader): flash-sdcard, SIGUSR1 to the simulator, then flash-sdcard -c verifies', async () => {
    const img = join(dir, 'octopus.img');
    makeCard(img, { sizeMiB: 64, fat: 32 });
    const fw = build(dir, 'btt-octopus-f446-v1', 'v0.13.0-usr1');
    const tty = join(dir, 'octopus');
    const sim = await sims.start(['--board', 'btt-octopus-f446-v1', '--card', img, '--port-link', tty]);
    const up = fwcard(['flash-sdcard', '-f', fw.bin, '-d', fw.dict, '--json', tty, 'btt-octopus-f446-v1']);
    const doc = JSON.parse(up.stdout);
    expect(doc, up.stderr).toMatchObject({ uploaded: true, verification: 'deferred' });
    expect(doc.next).toMatch(/power/i);
    // The SDIO bus's messages are counted like SPI's (sdio_* commands that wait for an answer).
    expect(doc.link.roundTrips).toBeGreaterThan(0);
    expect(doc.link.messages).toBeGreaterThan(doc.link.roundTrips);
    // The next step is the command to run, with the -f and -d given (issue 16).
    const command = /then run: (fwcard flash-sdcard -c .*)$/.exec(doc.next)?.[1];
    expect(command).toBe(`fwcard flash-sdcard -c -f ${fw.bin} -d ${fw.dict} ${tty} btt-octopus-f446-v1`);
    const restored = waitFor(sim, /power restored: bootloader flashed/);
    sim.kill('SIGUSR1');
    await restored;
    // Run exactly the printed command (the paths have no spaces), with --json.
    const check = fwcard([...command!.split(' ').slice(1), '--json']);
    expect(check.status, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, uploaded: false, verification: 'dictionary', version: 'v0.13.0-usr1' });
    // -c ends with a reset, as Klipper's script does: the MCU is left unconfigured.
    // Its last reset takes the board (USB, its own link) off the bus while it boots.
    await new Promise((r) => setTimeout(r, 200));
    for (const until = Date.now() + 20_000; !existsSync(tty) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    const info = fwcard(['mcu-info', '--timeout', '20000', '--json', tty]);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ isConfig: false, version: 'v0.13.0-usr1' });
  }, 120_000);

  it('without the power cycle, -c finds the old build still running', async () => {
    const img = join(dir, 'octopus2.img');
    makeCard(img, { sizeMiB: 64, fat: 32 });
    const fw = build(dir, 'btt-octopus-f446-v1', 'v0.13.0-nocycle');
    const tty = join(dir, 'octopus2');
    await sims.start(['--board', 'btt-octopus-f446-v1', '--card', img, '--port-link', tty]);
    const up = fwcard(['flash-sdcard', '-f', fw.bin, '-d', fw.dict, '--json', tty, 'btt-octopus-f446-v1']);
    expect(JSON.parse(up.stdout)).toMatchObject({ uploaded: true, verification: 'deferred' });
    const check = fwcard(['flash-sdcard', '-c', '-f', fw.bin, '-d', fw.dict, '--json', tty, 'btt-octopus-f446-v1']);
    expect(check.status).not.toBe(0);
  }, 120_000);

  it('a "power-cycle" line on stdin does the same; other lines are answered, not ignored', async () => {
    const tty = join(dir, 'stdin-board');
    const c = spawn(process.execPath, [CLI, 'simulate', '--board', 'btt-skr-v1.3', '--port-link', tty], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await waitFor(c, /serial port:/);
      const unknown = waitFor(c, /unknown control "hello"/);
      c.stdin!.write('hello\n');
      await unknown;
      const restored = waitFor(c, /power restored: bootloader skipped \(no card\)/);
      c.stdin!.write('power-cycle\n');
      await restored;
      const r = fwcard(['mcu-info', tty, '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).mcu).toBe('lpc1768');
    } finally {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }, 60_000);
});

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, fsckFat, mcopyOut, mdir, removeDir, tempDir, unwrapped } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { Tmux } from '../cli/tmux.js';
import { START, build, makeCard } from './helpers.js';

// Issue 14: Ctrl-C during `fwcard flash-sdcard` was ignored (three presses, the run finished) and
// the 30 s reconnect wait could not be cut short. Here a real child fwcard gets SIGINT through
// `fwcard simulate`'s pty at two moments of the run.
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});
const OFF = START * 512;

interface Interrupted {
  status: number | null;
  stdout: string;
  stderr: string;
  /** ms from the SIGINT to the exit. */
  afterSigint: number;
}

/** Run fwcard and send it SIGINT once its stderr matches `when` (and again `againMs` later). */
function interruptWhen(args: string[], when: RegExp, againMs?: number): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    const guard = setTimeout(() => c.kill('SIGKILL'), 120_000);
    c.stdout.on('data', (b) => (stdout += b));
    c.stderr.on('data', (b) => {
      stderr += b;
      if (!sentAt && when.test(stderr)) {
        sentAt = Date.now();
        c.kill('SIGINT');
        if (againMs !== undefined) {
          setTimeout(() => {
            sentAt = Date.now();
            c.kill('SIGINT');
          }, againMs);
        }
      }
    });
    c.once('error', reject);
    c.once('exit', (status) => {
      clearTimeout(guard);
      resolve({ status, stdout, stderr, afterSigint: sentAt ? Date.now() - sentAt : -1 });
    });
  });
}

describe('Ctrl-C during fwcard flash-sdcard (SIGINT to the child, through the pty)', () => {
  it('during the upload: stops after the current file operation (exit 130), says FWCARD.TMP is left; fsck clean; a re-run completes', async () => {
    const img = join(dir, 'upload.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-ctrlc', { size: 64_000 });
    const tty = join(dir, 'skr-upload');
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:250000', '--port-link', tty]);
    const r = await interruptWhen(['flash-sdcard', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3'], /uploading \/firmware\.bin: \d+%/);
    expect(r.afterSigint, r.stderr).toBeGreaterThan(0);
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/stopping at the next safe point \(never inside a card update\); press Ctrl-C again to stop at once/);
    expect(unwrapped(r.stderr)).toMatch(/fwcard: error: stopped \(Ctrl-C\) before reading \/FWCARD\.TMP: \/FWCARD\.TMP was left on the card; the firmware the board runs is unchanged/);
    expect(unwrapped(r.stderr)).toMatch(/hint: Run the same command again: it removes \/FWCARD\.TMP and completes the update/);
    expect(r.stderr).not.toMatch(/internal error|    at /);
    // The serial port was let go of and the lock released: the re-run below gets both.
    await sims.stop(sim);
    const fsck = fsckFat(img, OFF);
    expect(fsck.status, fsck.output).toBe(0);
    expect(mdir(img, OFF)).toMatch(/FWCARD\s+TMP/i);
    const again = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:250000', '--port-link', tty]);
    const done = spawnSync(process.execPath, [CLI, 'flash-sdcard', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3'], { encoding: 'utf8', timeout: 120_000 });
    await sims.stop(again);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/now runs v0\.13\.0-ctrlc/);
    expect(fsckFat(img, OFF).status).toBe(0);
    expect(mdir(img, OFF)).not.toMatch(/FWCARD\s+TMP/i);
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
  });

  it('during the reconnect wait (USB board away 20 s): ends at once, --json gets the error document (exit 130)', async () => {
    const img = join(dir, 'wait.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-wait');
    const tty = join(dir, 'skr-usb');
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'usb', '--boot-ms', '20000', '--port-link', tty]);
    const r = await interruptWhen(['flash-sdcard', '--json', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3'], /to come back \(\d+s left\)/);
    expect(r.status, r.stderr).toBe(130);
    expect(r.afterSigint).toBeLessThan(2000);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: false, error: { code: 'interrupted', details: { state: 'reset', where: 'while waiting for the board to come back after the reset' } } });
    expect(doc.error.message).toMatch(/the board was reset to flash \/firmware\.bin from the card/);
    expect(doc.error.hint).toMatch(/-c added/);
    await sims.stop(sim);
    const fsck = fsckFat(img, OFF);
    expect(fsck.status, fsck.output).toBe(0);
  });

  it('a second Ctrl-C exits at once (130); the next run undoes whatever it cut short and completes the update', async () => {
    const img = join(dir, 'twice.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-twice', { size: 64_000 });
    const tty = join(dir, 'skr-twice');
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:250000', '--port-link', tty]);
    const r = await interruptWhen(['flash-sdcard', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3'], /uploading \/firmware\.bin: \d+%/, 200);
    expect(r.status, r.stderr).toBe(130);
    expect(r.afterSigint).toBeLessThan(1000);
    expect(unwrapped(r.stderr)).toMatch(/stopped at once\. If a card update was being written, the next run undoes it/);
    const done = spawnSync(process.execPath, [CLI, 'flash-sdcard', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3'], { encoding: 'utf8', timeout: 120_000 });
    await sims.stop(sim);
    expect(done.status, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/now runs v0\.13\.0-twice/);
    const fsck = fsckFat(img, OFF);
    expect(fsck.status, fsck.output).toBe(0);
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
  });

  it('in a terminal (the spinner drawn, stdin in raw mode): the first Ctrl-C stops the run at a safe point (exit 130)', async () => {
    const img = join(dir, 'tty.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-tty', { size: 64_000 });
    const tty = join(dir, 'skr-tty');
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:250000', '--port-link', tty]);
    const t = new Tmux(`sh -c 'node ${CLI} flash-sdcard -f ${fw.bin} -d ${fw.dict} ${tty} btt-skr-v1.3; echo "EXIT=$?"; sleep 60'`, { cwd: dir, env: { NO_COLOR: '1' }, width: 200 });
    try {
      await t.waitFor(/uploading \/firmware\.bin: \d+%/, 30_000);
      t.keys('C-c');
      const s = await t.waitFor(/EXIT=\d+/, 60_000);
      expect(s).toMatch(/stopping at the next safe point/);
      expect(s).toMatch(/fwcard: error: stopped \(Ctrl-C\) before reading \/FWCARD\.TMP/);
      expect(s).toMatch(/EXIT=130/);
    } finally {
      t.kill();
    }
    // The re-run in the terminal completes, and the process ends (stdin let go of).
    const again = new Tmux(`sh -c 'node ${CLI} flash-sdcard -f ${fw.bin} -d ${fw.dict} ${tty} btt-skr-v1.3; echo "EXIT=$?"; sleep 60'`, { cwd: dir, env: { NO_COLOR: '1' }, width: 200 });
    try {
      const s = await again.waitFor(/EXIT=\d+/, 90_000);
      expect(s).toMatch(/now runs v0\.13\.0-tty/);
      expect(s).toMatch(/EXIT=0/);
    } finally {
      again.kill();
    }
    await sims.stop(sim);
    const fsck = fsckFat(img, OFF);
    expect(fsck.status, fsck.output).toBe(0);
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
  });
});

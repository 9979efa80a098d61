import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { CLI, fsckFat, mcopyOut, mdir, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { START, build, makeCard } from './helpers.js';

// End to end as a user runs it: `fwcard simulate` behind a real pty (socat), and
// `fwcard flash-sdcard` opening that pty with the serialport package, flash-sdcard.sh's flags.
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});
const simulate = (args: string[]) => sims.start(args);

function fwcard(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('fwcard flash-sdcard through a pty', () => {
  it('-l lists the boards like flash-sdcard.sh', () => {
    const r = fwcard(['flash-sdcard', '-l']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Available Boards:/);
    for (const n of ['btt-octopus-f446-v1', 'btt-skr-v1.3', 'creality-v4.2.2', 'mks-robin-e3']) expect(r.stdout).toContain(`\n${n}\n`);
  });

  it('updates an SKR 1.3 over a 250000-baud UART and prints the documented JSON', async () => {
    const img = join(dir, 'uart.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-pty');
    const tty = join(dir, 'skr');
    const sim = await simulate(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:250000', '--port-link', tty]);
    const r = fwcard(['flash-sdcard', '-b', '250000', '-f', fw.bin, '-d', fw.dict, '--json', tty, 'btt-skr-v1.3']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, board: 'generic-lpc1768', device: tty, firmwarePath: '/firmware.bin', uploaded: true, verification: 'dictionary', version: 'v0.13.0-pty' });
    expect(doc.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Human progress went to stderr only.
    expect(r.stderr).toMatch(/uploading \/firmware\.bin/);
    await sims.stop(sim);
    expect(fsckFat(img, START * 512).status).toBe(0);
    expect(mdir(img, START * 512)).not.toMatch(/firmware\s+bin/i);
    expect(mcopyOut(img, START * 512, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
  });

  it("a device path that does not exist: no-such-device after a short wait for it to appear", () => {
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-none');
    const r = fwcard(['flash-sdcard', '-f', fw.bin, '--json', join(dir, 'no-such-port'), 'btt-skr-v1.3']);
    expect(r.status).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe('no-such-device');
    expect(doc.error.hint).toMatch(/serial\/by-id/);
    expect(doc.error.hint).toBeTruthy();
  });
});

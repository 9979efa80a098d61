import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { loadCatalog } from '../../src/boards/catalog.js';
import { CLI, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { START, build, makeCard } from './helpers.js';

// Klipper's scripts/spi_flash/spi_flash.py ends every run with a reset (run_sdcard_upload,
// run_verify), so the board is left unconfigured; and its verify_flash reads FIRMWARE.CUR
// only when no version settles it. Judged through `fwcard simulate` on a pty (issue 15).
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});

function fwcard(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/**
 * mcu-info once the board is back: the run's last reset takes a USB board (the simulator's
 * default link for the SKR 1.3) off the bus for its boot, and its node returns after it.
 */
async function mcuInfo(tty: string): Promise<{ isConfig: boolean | null; version: string }> {
  await new Promise((r) => setTimeout(r, 200));
  for (const until = Date.now() + 20_000; !existsSync(tty) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
  const r = fwcard(['mcu-info', '--timeout', '20000', '--json', tty]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const readBackLine = /reading \/FIRMWARE\.CUR back/;

describe('flash-sdcard ends like Klipper', () => {
  it('SKR 1.3: the version proves the flash, FIRMWARE.CUR is not read back, and the MCU is left unconfigured; -c with and without -d too', async () => {
    const img = join(dir, 'skr.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-end');
    const tty = join(dir, 'skr');
    await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--port-link', tty]);
    const log = join(dir, 'flash.log');
    const up = fwcard(['flash-sdcard', '-f', fw.bin, '-d', fw.dict, '--json', '--log', log, tty, 'btt-skr-v1.3']);
    expect(up.status, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ uploaded: true, verification: 'dictionary', version: 'v0.13.0-end' });
    const trace = readFileSync(log, 'utf8');
    expect(trace).toMatch(new RegExp(`the card holds /FIRMWARE\\.CUR \\(${fw.bytes.length} bytes\\)`));
    expect(trace).not.toMatch(readBackLine);
    expect(trace).toMatch(/resetting the MCU \(leaving it unconfigured/);
    expect(await mcuInfo(tty)).toMatchObject({ isConfig: false, version: 'v0.13.0-end' });

    // -c with -d: by the version; the card's file is not read.
    const checkLog = join(dir, 'check.log');
    const withDict = fwcard(['flash-sdcard', '-c', '-f', fw.bin, '-d', fw.dict, '--json', '--log', checkLog, tty, 'btt-skr-v1.3']);
    expect(withDict.status, withDict.stderr).toBe(0);
    expect(JSON.parse(withDict.stdout)).toMatchObject({ uploaded: false, verification: 'dictionary' });
    expect(readFileSync(checkLog, 'utf8')).toMatch(/the card holds \/FIRMWARE\.CUR/);
    expect(readFileSync(checkLog, 'utf8')).not.toMatch(readBackLine);
    expect((await mcuInfo(tty)).isConfig).toBe(false);

    // -c without -d: the build's own embedded dictionary names the version.
    const noDict = fwcard(['flash-sdcard', '-c', '-f', fw.bin, '--json', tty, 'btt-skr-v1.3']);
    expect(noDict.status, noDict.stderr).toBe(0);
    expect(JSON.parse(noDict.stdout)).toMatchObject({ uploaded: false, verification: 'dictionary', version: 'v0.13.0-end' });
    expect((await mcuInfo(tty)).isConfig).toBe(false);
  }, 240_000);

  it('-c with a build that names no version: FIRMWARE.CUR is read back and compared, then the MCU is reset', async () => {
    const img = join(dir, 'plain.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const board = loadCatalog().get('btt-skr-v1.3');
    const plain = makeSyntheticFirmware({ mcu: board.mcu, flashStart: board.appStart.value[0]!, size: 20_000, klipper: false });
    const bin = join(dir, 'plain.bin');
    writeFileSync(bin, plain.bytes);
    // The card holds what a bootloader left after flashing this build.
    const m = spawnSync('mcopy', ['-i', `${img}@@${START * 512}`, bin, '::/FIRMWARE.CUR'], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    const tty = join(dir, 'plain');
    await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--port-link', tty]);
    const log = join(dir, 'plain.log');
    const ok = fwcard(['flash-sdcard', '-c', '-f', bin, '--json', '--log', log, tty, 'btt-skr-v1.3']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ uploaded: false, verification: 'checksum' });
    expect(readFileSync(log, 'utf8')).toMatch(readBackLine);
    expect((await mcuInfo(tty)).isConfig).toBe(false);
    // Another build without a version: the same read-back finds it differs.
    const other = makeSyntheticFirmware({ mcu: board.mcu, flashStart: board.appStart.value[0]!, size: 20_001, klipper: false });
    const otherBin = join(dir, 'other.bin');
    writeFileSync(otherBin, other.bytes);
    const bad = fwcard(['flash-sdcard', '-c', '-f', otherBin, '--json', tty, 'btt-skr-v1.3']);
    expect(bad.status).not.toBe(0);
    expect(JSON.parse(bad.stdout).error?.code ?? JSON.parse(bad.stdout).code).toBe('verify-failed');
  }, 240_000);
});

/**
 * An alias stays as typed, with the catalog's name in parentheses (issue 16: `--board
 * btt-skr-turbo-v1.4` printed "ready for generic-lpc1769"). JSON keeps the catalog's name.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { boardLabel } from '../../src/boards/label.js';
import { CLI, removeDir, runCli, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { build, makeCard } from '../flash-sdcard/helpers.js';

const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});
const ALIAS = 'btt-skr-turbo-v1.4';
const NAME = 'generic-lpc1769';
const SHOWN = `${ALIAS} (${NAME})`;

describe('board aliases as typed', () => {
  it('boardLabel: the alias with the catalog name; the name alone when that is what was typed', () => {
    expect(boardLabel(ALIAS, NAME)).toBe(SHOWN);
    expect(boardLabel(NAME, NAME)).toBe(NAME);
    expect(boardLabel('Generic-LPC1769', NAME)).toBe(NAME);
    expect(boardLabel(undefined, NAME)).toBe(NAME);
  });

  it('prepare, check and doctor print the alias, resolved in parentheses', () => {
    const fw = build(dir, NAME, 'v0.13.0-alias');
    const img = join(dir, 'alias.img');
    const p = runCli(['prepare', img, '--size', '64M', '--board', ALIAS, '--firmware', fw.bin, '--yes']);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toContain(`is ready for ${SHOWN}:`);
    const dry = runCli(['prepare', img, '--board', ALIAS, '--firmware', fw.bin, '--dry-run', '--no-format']);
    expect(dry.status, dry.stderr).toBe(0);
    const c = runCli(['check', img, '--board', ALIAS]);
    expect(c.status, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toContain(`ready to flash ${SHOWN}`);
    const j = JSON.parse(runCli(['check', img, '--board', ALIAS, '--json']).stdout);
    expect(j.board).toBe(NAME);
    const d = runCli(['doctor', '--board', ALIAS, '--firmware', fw.bin, '--card', img]);
    expect(d.stdout).toContain(`Plan for the ${ALIAS} (${NAME}: `);
  });

  it('flash-sdcard --dry-run names the alias', async () => {
    const img = join(dir, 'fs.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-alias');
    const tty = join(dir, 'skr');
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--port-link', tty]);
    const r = spawnSync(process.execPath, [CLI, 'flash-sdcard', '--dry-run', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Plan for btt-skr-v1\.3 \(generic-lpc1768\) on /m);
    // One unit system for the card's exact size: the progress label as the plan (was "SDSC 0.1 GB").
    expect(r.stderr).toMatch(/card: SDSC 64\.0 MiB/);
    expect(r.stdout).toMatch(/card: SDSC 64\.0 MiB/);
    expect(r.stderr).not.toMatch(/\d GB\b/);
    await sims.stop(sim);
  }, 180_000);
});

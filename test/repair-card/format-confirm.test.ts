import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { build } from '../flash-sdcard/helpers.js';
import { Tmux } from '../cli/tmux.js';
import { makeForeignCard } from './cards.js';

// flash-sdcard --format asks in a real terminal (issue 17: "ask for yes in a terminal"): it shows
// what is on the card and what will be lost first; anything but "yes" writes nothing.
const dir = tempDir();
const sims = new SimulateProcesses();
let term: Tmux | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});
const BOARD = 'btt-skr-v1.3';
const sha = (p: string) => execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]!;

function terminal(cmd: string): Tmux {
  term = new Tmux(`sh -c '${cmd.replace(/'/g, `'\\''`)}; echo "EXIT=$?"; sleep 60'`, { cwd: dir, env: { NO_COLOR: '1', FWCARD_LOCK_DIR: join(dir, 'locks'), FWCARD_STATE_DIR: join(dir, 'state') }, width: 100, height: 60 });
  return term;
}

describe('flash-sdcard --format in a terminal', () => {
  it('shows the card and asks; "no" writes nothing, "yes" repairs and flashes', async () => {
    const img = join(dir, 'ask.img');
    makeForeignCard(img, 'exfat-mbr', 128);
    const fw = build(dir, BOARD, 'v0.13.0-ask');
    const tty = join(dir, 'skr');
    await sims.start(['--board', BOARD, '--card', img, '--port-link', tty]);
    const before = sha(img);
    const cmd = `node ${CLI} flash-sdcard --format -f ${fw.bin} -d ${fw.dict} ${tty} ${BOARD}`;

    let t = terminal(cmd);
    let s = await t.waitFor(/Type "yes" to continue:/, 60_000);
    // What is on the card now and what will be lost come before the question.
    expect(s).toMatch(/Repair of the card in the board:/);
    expect(s).toMatch(/exFAT/);
    expect(s).toMatch(/ERASE everything on the card/);
    t.type('no');
    t.keys('Enter');
    s = await t.waitFor(/EXIT=\d+/, 60_000);
    expect(s).not.toMatch(/EXIT=0/);
    expect(sha(img)).toBe(before);
    t.kill();

    t = terminal(cmd);
    await t.waitFor(/Type "yes" to continue:/, 60_000);
    t.type('yes');
    t.keys('Enter');
    s = await t.waitFor(/EXIT=\d+/, 120_000);
    expect(s).toMatch(/EXIT=0/);
    expect(sha(img)).not.toBe(before);
  }, 240_000);
});

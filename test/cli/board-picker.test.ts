import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { SHOW_ALL, boardChoices } from '../../src/cli/interactive/board-picker.js';
import { completeDoctorBoard } from '../../src/cli/interactive/doctor-board.js';
import { firmwareFileFit } from '../../src/cli/interactive/firmware-match.js';
import { build } from '../flash-sdcard/helpers.js';
import { CLI, fingerprint, removeDir, runCli, tempDir } from '../helpers/judges.js';
import { Tmux } from './tmux.js';

// Issue 16: doctor without --board, the picker narrowed by the firmware's MCU, Esc cancels.
const dir = tempDir('fwcard-board-picker-');
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');
const F446 = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const MARLIN_F103 = join(process.cwd(), 'fixtures', 'firmware', 'marlin-stm32f103-28k.bin');
const catalog = loadCatalog({ noUserConfig: true });
let term: Tmux | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});
afterAll(() => removeDir(dir));

function terminal(cmd: string, width = 100): Tmux {
  term = new Tmux(`sh -c '${cmd.replace(/'/g, `'\\''`)}; echo "EXIT=$?"; sleep 60'`, { cwd: dir, env: { FWCARD_BOARDS: NO_USER_BOARDS, NO_COLOR: '1' }, width });
  return term;
}

const values = (items: ReturnType<typeof boardChoices>): string[] => items.map((c) => ('value' in c ? String(c.value) : '---'));

describe('what the firmware says narrows the boards', () => {
  it('a Klipper build: the boards with its MCU (Klipper dictionary), then a way to all of them', () => {
    const fit = firmwareFileFit(F446)!;
    expect(fit.label).toBe('stm32f446xx');
    const fitting = catalog.all().filter((b) => b.mcu === 'stm32f446xx').map((b) => b.name);
    expect(fitting).toContain('btt-octopus-f446-v1');
    const first = values(boardChoices(catalog, '', fit));
    expect(first).toEqual([...fitting, '---', SHOW_ALL]);
    // After "show all", or once something is typed: the fitting boards first, then every other one.
    const all = values(boardChoices(catalog, '', fit, true));
    expect(all.slice(0, fitting.length + 1)).toEqual([...fitting, '---']);
    expect(all.length).toBe(catalog.all().length + 1);
    const typed = values(boardChoices(catalog, 'octopus', fit));
    expect(typed[0]).toBe('btt-octopus-f446-v1');
    expect(typed).toContain('btt-octopus-f407-v1');
    expect(typed.indexOf('---')).toBeLessThan(typed.indexOf('btt-octopus-f407-v1'));
  });

  it('a build naming another MCU (built by our generator for an LPC1769) narrows to that MCU; a board Klipper builds as another MCU fits that one', () => {
    const lpc = build(dir, 'generic-lpc1769', 'v0.13.0-lpc');
    expect(values(boardChoices(catalog, '', firmwareFileFit(lpc.bin)))).toEqual(['generic-lpc1769', '---', SHOW_ALL]);
    const btt002 = catalog.get('btt002-v1');
    const f103 = firmwareFileFit(join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f103-28k.mks-robin.bin'))!;
    expect(f103.fits(btt002)).toBe(btt002.klipper?.mcu === 'stm32f103xe');
  });

  it('without a dictionary (Marlin): the family and link address pick the boards whose bootloader starts it', () => {
    const fit = firmwareFileFit(MARLIN_F103)!;
    expect(fit.label).toBe('stm32 at 0x08007000');
    const names = values(boardChoices(catalog, '', fit)).filter((v) => v !== '---' && v !== SHOW_ALL);
    expect(names).toContain('creality-v4.2.2');
    for (const n of names) expect(catalog.get(n).appStart.value).toContain(0x08007000);
    expect(names).not.toContain('generic-lpc1769');
  });

  it('a build for an MCU no board has: every board, and the question says none fits', async () => {
    const odd = build(dir, 'btt-octopus-f446-v1', 'v0.13.0-f072', { mcu: 'stm32f072xb' });
    const fit = firmwareFileFit(odd.bin)!;
    expect(fit.label).toBe('stm32f072xb');
    expect(values(boardChoices(catalog, '', fit))).toEqual(catalog.all().map((b) => b.name));
    const t = terminal(`node ${CLI} doctor --firmware ${odd.bin}`);
    await t.waitFor(/Which board\? \(none is for stm32f072xb, the firmware's MCU; type to search; Esc cancels\)/);
    t.keys('C-c');
    expect(await t.waitFor(/EXIT=\d+/)).toMatch(/EXIT=2/);
  });

  it('no firmware, a missing one or a text file: no narrowing (the command reports the file itself)', () => {
    expect(firmwareFileFit(undefined)).toBeNull();
    expect(firmwareFileFit(join(dir, 'missing.bin'))).toBeNull();
    writeFileSync(join(dir, 'notes.txt'), 'not firmware\n');
    expect(firmwareFileFit(join(dir, 'notes.txt'))).toBeNull();
    expect(values(boardChoices(catalog, '', null)).length).toBe(catalog.all().length);
  });
});

describe('doctor without --board, no terminal: exit 2 naming --board and `fwcard boards`', () => {
  it('text and --json, with a plain spawn (stdin a pipe)', () => {
    const t = runCli(['doctor', '--firmware', F446]);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/doctor needs --board <name>; there is no terminal to ask on/);
    expect(t.stderr).toMatch(/hint: Pass --board <name>: `fwcard boards` lists/);
    expect(t.stderr).not.toMatch(/required option/);
    const j = runCli(['doctor', '--json']);
    expect(j.status).toBe(2);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'missing-board', details: { missing: ['--board'] } } });
    expect(JSON.parse(j.stdout).error.hint).toMatch(/`fwcard boards`.*--board|--board.*`fwcard boards`/);
  });

  it('the decision: --json never asks, even with a terminal; a given --board is used as is', async () => {
    const never = async (): Promise<never> => {
      throw new Error('asked');
    };
    await expect(completeDoctorBoard({ json: true }, { interactive: true, pickBoard: never })).rejects.toMatchObject({ code: 'missing-board' });
    await expect(completeDoctorBoard({ json: false }, { interactive: false, pickBoard: never })).rejects.toMatchObject({ code: 'missing-board' });
    await expect(completeDoctorBoard({ board: 'x', json: false }, { interactive: true, pickBoard: never })).resolves.toBe('x');
    await expect(completeDoctorBoard({ json: false, firmware: 'f.bin' }, { interactive: true, pickBoard: async (_b, fw) => `picked for ${fw}` })).resolves.toBe('picked for f.bin');
  });

  it('--json in a real terminal does not ask either', async () => {
    const out = join(dir, 'doctor-json.out');
    const t = terminal(`node ${CLI} doctor --json > ${out}`);
    const s = await t.waitFor(/EXIT=\d+/);
    expect(s).not.toMatch(/Which board/);
    expect(s).toMatch(/EXIT=2/);
    expect(JSON.parse(readFileSync(out, 'utf8')).error.code).toBe('missing-board');
  });
});

describe('in a terminal', () => {
  it('doctor --firmware without --board: the boards for the firmware\'s MCU; the one picked gets its plan', async () => {
    const out = join(dir, 'doctor-picked.out');
    // The plan goes to a file (it is longer than the screen); the picker draws on stderr.
    const t = terminal(`node ${CLI} doctor --firmware ${F446} > ${out}`);
    const s = await t.waitFor(/Show all \d+ boards/);
    expect(s).toMatch(/Which board\? \(for stm32f446xx first; type to search; Esc cancels\)/);
    expect(s).toMatch(/❯ btt-octopus-f446-v1 +BIGTREETECH/);
    expect(s).not.toMatch(/creality-v4\.2\.2|generic-lpc1769/);
    t.keys('Enter');
    const done = await t.waitFor(/EXIT=\d+/, 30_000);
    expect(readFileSync(out, 'utf8')).toMatch(/^Plan for the btt-octopus-f446-v1 \(BIGTREETECH/);
    expect(done).toMatch(/EXIT=[01]\n/);
  });

  it('prepare: "Show all" lists every board, the others under a line; Esc cancels with nothing written (exit 2)', async () => {
    const img = join(dir, 'esc.img');
    writeFileSync(img, Buffer.alloc(1 << 20, 0xa5));
    const before = fingerprint(img);
    const t = terminal(`node ${CLI} prepare ${img} --firmware ${F446}`);
    await t.waitFor(/Show all \d+ boards/);
    t.keys('Down', 'Down', 'Down');
    await t.waitFor(/❯ Show all/);
    t.keys('Enter');
    const all = await t.waitFor(/── not for stm32f446xx, the firmware's MCU ──/);
    expect(all).toMatch(/Which board\? \(type to search: name, vendor, printer, MCU; Esc cancels\)/);
    expect(all).toMatch(/generic-lpc1768/);
    t.keys('Escape');
    const s = await t.waitFor(/EXIT=\d+/);
    expect(s).toMatch(/cancelled: nothing was written/);
    expect(s).not.toMatch(/internal error|AbortPromptError|    at /);
    expect(s).toMatch(/EXIT=2/);
    expect(fingerprint(img)).toBe(before);
  });

  for (const [key, name] of [['Escape', 'Esc'], ['C-c', 'Ctrl-C']] as const) {
    it(`${name} in doctor's picker cancels cleanly (exit 2, no plan)`, async () => {
      const t = terminal(`node ${CLI} doctor`);
      await t.waitFor(/Which board\?/);
      t.type('creality');
      await t.waitFor(/❯ creality-/);
      t.keys(key);
      const s = await t.waitFor(/EXIT=\d+/);
      expect(s).toMatch(/^fwcard: error: cancelled: nothing was written$/m);
      expect(s).not.toMatch(/Plan for/);
      expect(s).toMatch(/EXIT=2/);
    });
  }

  it('Esc at prepare\'s "Type yes to continue" cancels too: exit 2, the image byte-identical', async () => {
    const img = join(dir, 'confirm-esc.img');
    writeFileSync(img, Buffer.alloc(16 << 20, 0x5a));
    const before = fingerprint(img);
    const t = terminal(`node ${CLI} prepare ${img} --board btt-octopus-f446-v1 --firmware ${F446}`);
    await t.waitFor(/Type "yes" to continue:/);
    t.type('ye');
    t.keys('Escape');
    const s = await t.waitFor(/EXIT=\d+/);
    expect(s).toMatch(/^fwcard: error: cancelled: nothing was written$/m);
    expect(s).toMatch(/EXIT=2/);
    expect(fingerprint(img)).toBe(before);
  });

  it('the picker fits an 80-column terminal: one line per board', async () => {
    const t = terminal(`node ${CLI} doctor --firmware ${MARLIN_F103}`, 80);
    const s = await t.waitFor(/Show all \d+ boards/);
    const lines = s.split('\n').filter((l) => /^[❯ ] \S+ {2}\S/.test(l));
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    // Every board row is a whole row: the row after a board is a board, the separator or blank.
    expect(s).toMatch(/❯ [a-z0-9.-]+ {2}[^\n]*\n {2}[a-z0-9.-]+ {2}/);
  });
});

describe('the drive picker at 80 columns', () => {
  it('a drive whose line is longer than the terminal is cut with … on its own line, and still picked', async () => {
    const long = { device: '/dev/sdb', description: 'Generic STORAGE DEVICE (USB: Realtek Semiconductor Corp. USB3.0 Card Reader)', sizeBytes: 31_914_983_424, bus: 'usb', removable: true, isCard: true, isUsb: true, isSystem: false, isVirtual: false, readOnly: false, mountpoints: ['/media/pi/BOOT'], byId: [], loopBackingFile: null, hiddenBecause: '', source: 'sysfs' };
    const short = { ...long, device: '/dev/sdc', description: 'SanDisk Cruzer', mountpoints: [] };
    const list = join(dir, 'drives.json');
    writeFileSync(list, JSON.stringify([long, short]));
    const t = terminal(`node ${join(process.cwd(), 'test', 'cli', 'pick-drive-harness.mjs')} "$(cat ${list})"`, 80);
    const s = await t.waitFor(/Which card\?[\s\S]*\/dev\/sdc/);
    const row = s.split('\n').find((l) => l.startsWith('❯ /dev/sdb'))!;
    expect(row.length).toBeLessThanOrEqual(80);
    expect(row).toMatch(/Generic STORAGE DEVICE .*…$/);
    expect(s).toMatch(/\n {2}\/dev\/sdc +29\.7 GiB +SD card +SanDisk Cruzer/);
    t.keys('Enter');
    expect(await t.waitFor(/EXIT=\d+/)).toMatch(/PICKED \/dev\/sdb\n/);
  });
});

describe('doctor keeps an alias as typed', () => {
  it('the plan says btt-skr-turbo-v1.4 (generic-lpc1769) and its commands pass the alias', () => {
    const lpc = build(dir, 'generic-lpc1769', 'v0.13.0-alias');
    const t = runCli(['doctor', '--board', 'btt-skr-turbo-v1.4', '--firmware', lpc.bin], { env: { COLUMNS: '200' } });
    expect(t.stdout).toMatch(/^Plan for the btt-skr-turbo-v1\.4 \(generic-lpc1769: /);
    expect(t.stdout).toMatch(/\$ fwcard prepare \/dev\/sdX --board btt-skr-turbo-v1\.4 --firmware /);
    expect(t.stdout).not.toMatch(/--board generic-lpc1769/);
    const j = JSON.parse(runCli(['doctor', '--board', 'BTT-SKR-Turbo-V1.4', '--json']).stdout);
    expect(j.board).toMatchObject({ name: 'generic-lpc1769', asTyped: 'btt-skr-turbo-v1.4' });
    expect(JSON.parse(runCli(['doctor', '--board', 'generic-lpc1769', '--json']).stdout).board.asTyped).toBe('generic-lpc1769');
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { elfOfSyntheticFirmware } from '../../fixtures/synth/elf.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { build, makeCard } from '../flash-sdcard/helpers.js';
import { CLI, removeDir, runCli, tempDir } from '../helpers/judges.js';
import { SysfsTree } from '../scan/sysfs-tree.js';

// Every command run for real, its --json stdout validated against docs/schemas/<command>.schema.json
// by ajv in strict mode (which also rejects mistakes in the schema files themselves).
const SCHEMAS = join(process.cwd(), 'docs', 'schemas');
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));

function validate(schema: string, doc: unknown): string {
  const v = ajv.getSchema(`${schema}.schema.json`);
  if (!v) throw new Error(`no schema ${schema}`);
  return v(doc) ? '' : ajv.errorsText(v.errors, { separator: '\n' });
}

const dir = tempDir('fwcard-schemas-');
const children: ChildProcess[] = [];
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');

/** Run fwcard with --json; the stdout must be exactly one JSON document. */
function json(args: string[]): { status: number | null; doc: any; stderr: string } {
  const r = runCli([...args, '--json'], { env: { FWCARD_BOARDS: NO_USER_BOARDS } });
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`fwcard ${args.join(' ')} --json: stdout is not one JSON document:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return { status: r.status, doc, stderr: r.stderr };
}

function expectValid(schema: string, r: { doc: unknown }): void {
  expect(validate(schema, r.doc), JSON.stringify(r.doc, null, 1).slice(0, 2000)).toBe('');
}

let fw: ReturnType<typeof build>;
beforeAll(() => {
  fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-schema');
});
afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await gone;
    }
  }
  removeDir(dir);
});

describe('--json documents match docs/schemas', () => {
  it('every command that takes --json has a schema, and every schema compiles in strict mode', async () => {
    const withJson = (await buildProgram()).commands.filter((c) => c.options.some((o) => o.long === '--json')).map((c) => c.name());
    expect(withJson.length).toBeGreaterThanOrEqual(9);
    for (const name of [...withJson, 'error', 'common']) expect(ajv.getSchema(`${name}.schema.json`), name).toBeTruthy();
  });

  it('prepare: one card, a dry run, and a batch with a failed target', () => {
    const one = json(['prepare', join(dir, 'a.img'), '--size', '64M', '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--yes']);
    expect(one.status).toBe(0);
    expectValid('prepare', one);
    const dry = json(['prepare', join(dir, 'dry.img'), '--size', '64M', '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.doc.dryRun).toBe(true);
    expectValid('prepare', dry);
    expect(dry.doc.plan.target.current).toBeNull(); // a new image: nothing on it
    // A dry run on a card that holds something: plan.target.current says what (issue 14).
    const again = json(['prepare', join(dir, 'a.img'), '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--dry-run']);
    expect(again.status).toBe(0);
    expectValid('prepare', again);
    expect(again.doc.plan.target.current.table).toBe('mbr');
    expect(again.doc.plan.target.current.partitions[0].content).toMatchObject({ fs: 'FAT16', files: { count: 1, names: ['firmware.bin'] } });
    const kept = json(['prepare', join(dir, 'a.img'), '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--no-format', '--yes']);
    expect(kept.status).toBe(0);
    expect(kept.doc.formatted).toBe(false);
    expectValid('prepare', kept);
    const batch = json(['prepare', join(dir, 'b1.img'), join(dir, 'missing-dir', 'b2.img'), '--size', '64M', '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--yes']);
    expect(batch.status).toBe(2);
    expect(batch.doc.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false]);
    expectValid('prepare', batch);
  });

  it('check, check --fix, inspect and doctor on that card', () => {
    const img = join(dir, 'a.img');
    const c = json(['check', img, '--board', 'btt-skr-v1.3', '--firmware', fw.bin]);
    expect(c.status).toBe(0);
    expectValid('check', c);
    const f = json(['check', img, '--board', 'btt-skr-v1.3', '--fix']);
    expect(f.doc.fix).toBeTruthy();
    expectValid('check', f);
    const blank = join(dir, 'blank.img');
    writeFileSync(blank, Buffer.alloc(4 << 20));
    const bad = json(['check', blank]);
    expect(bad.status).toBe(1);
    expectValid('check', bad);
    const i = json(['inspect', fw.bin, '--board', 'btt-skr-v1.3']);
    expect(i.status).toBe(0);
    expectValid('inspect', i);
    const wrong = json(['inspect', fw.bin, '--board', 'btt-octopus-f446-v1']);
    expect(wrong.status).toBe(1);
    expectValid('inspect', wrong);
    const d = json(['doctor', '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--card', img]);
    expect(d.status).toBe(0);
    expectValid('doctor', d);
    const d2 = json(['doctor', '--board', 'btt-octopus-f446-v1', '--firmware', fw.bin, '--card', blank]);
    expect(d2.status).toBe(1);
    expectValid('doctor', d2);
    expectValid('doctor', json(['doctor', '--board', 'creality-v4.2.2']));
  });

  it('scan: a sysfs tree with a board in ROM DFU, Klipper on USB and a UART; and an empty one', () => {
    const t = new SysfsTree(join(dir, 'sysfs'))
      .usb('1-1', { vid: '0483', pid: 'df11', manufacturer: 'STMicroelectronics', product: 'STM32  BOOTLOADER', serial: '3276345E3034', interfaces: [{ cls: 'fe', label: '@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg' }] })
      .usb('1-2', { vid: '1d50', pid: '614e', manufacturer: 'Klipper', product: 'stm32f446xx', serial: '2C003F001351303530323539', interfaces: [{ cls: '02' }, { cls: '0a' }] })
      .tty('ttyACM0', { under: '1-2:1.0', driver: 'cdc_acm', byId: 'usb-Klipper_stm32f446xx_2C003F001351303530323539-if00' })
      .tty('ttyS0', { driver: 'serial8250', type: '4' });
    for (const env of [t.env, { FWCARD_SYSFS_ROOT: join(dir, 'no-sysfs'), FWCARD_DEV_ROOT: join(dir, 'no-dev') }]) {
      const r = runCli(['scan', '--json'], { env });
      expect(r.status).toBe(0);
      expectValid('scan', { doc: JSON.parse(r.stdout) });
    }
  });

  it('inspect on an ELF and an Intel HEX file (linkAddress, elf, hex)', () => {
    const synth = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, size: 30000, klipper: true });
    const elfPath = join(dir, 'klipper.elf');
    writeFileSync(elfPath, elfOfSyntheticFirmware(synth));
    const e = json(['inspect', elfPath, '--board', 'btt-octopus-f446-v1']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.doc.linkAddress).toMatchObject({ value: 0x08008000, confidence: 'certain' });
    expectValid('inspect', e);
    const hexPath = join(dir, 'klipper.hex');
    writeFileSync(hexPath, ':020000040800F2\n:1000000000000220098000083583000809820008EA\n:00000001FF\n');
    const h = json(['inspect', hexPath]);
    expect(h.doc.hex).toMatchObject({ low: 0x08000000, high: 0x08000010 });
    expectValid('inspect', h);
    const out = join(dir, 'klipper-from-hex.bin');
    const w = json(['inspect', hexPath, '--to-bin', out]);
    expect(w.doc.written).toEqual({ path: out, bytes: 16 });
    expect(readFileSync(out).subarray(0, 4).toString('hex')).toBe('00000220');
    expectValid('inspect', w);
  });

  it('boards (list, search, one board), drives and flash-sdcard -l', () => {
    for (const args of [['boards'], ['boards', 'octopus'], ['boards', 'btt-octopus-f446-v1'], ['boards', 'creality-v4.2.2'], ['drives', '--all'], ['drives']]) {
      const r = json(args);
      expect(r.status, args.join(' ')).toBe(0);
      expectValid(args[0]!, r);
    }
    const l = json(['flash-sdcard', '-l']);
    expect(l.status).toBe(0);
    expectValid('flash-sdcard', l);
  });

  it('the error document: a typed error, an argument commander rejects, a missing file', () => {
    for (const [args, code] of [
      [['boards', 'no-such-board-xyz'], 'unknown-board'],
      [['check', '--board', 'btt-skr-v1.3'], 'usage'],
      [['inspect', fw.bin, '--no-such-flag'], 'usage'],
      [['prepare', join(dir, 'x.img'), '--firmware', fw.bin], 'missing-board'],
      [['inspect', join(dir, 'nope.bin')], 'firmware-missing'],
      [['check', join(dir, 'nope.img')], 'not-found'],
      [['doctor', '--board', 'octopuss'], 'unknown-board'],
    ] as const) {
      const r = json([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.doc.error.code).toBe(code);
      expectValid('error', r);
    }
  });

  it('simulate, mcu-info and flash-sdcard through a real pty', async () => {
    const img = join(dir, 'sim.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const tty = join(dir, 'skr');
    const sim = spawn(process.execPath, [CLI, 'simulate', '--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:250000', '--port-link', tty, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(sim);
    let out = '';
    sim.stdout!.on('data', (b) => (out += b));
    const deadline = Date.now() + 15000;
    while (!out.trim().endsWith('}')) {
      if (sim.exitCode !== null || Date.now() > deadline) throw new Error(`simulate did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const started = { doc: JSON.parse(out) };
    expect(started.doc.path).toBe(tty);
    expectValid('simulate', started);
    const info = json(['mcu-info', tty]);
    expect(info.status, info.stderr).toBe(0);
    expectValid('mcu-info', info);
    const flashed = json(['flash-sdcard', '-b', '250000', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3']);
    expect(flashed.status, flashed.stderr).toBe(0);
    expect(flashed.doc.uploaded).toBe(true);
    expectValid('flash-sdcard', flashed);
    const checked = json(['flash-sdcard', '-c', '-b', '250000', '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3']);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.doc.uploaded).toBe(false);
    expectValid('flash-sdcard', checked);
  });

  it('the schemas reject what they should: a missing field, an undocumented field, a wrong type', () => {
    const good = json(['inspect', fw.bin]).doc;
    expect(validate('inspect', good)).toBe('');
    const { file: _file, ...missing } = good;
    expect(validate('inspect', missing)).toMatch(/file/);
    expect(validate('inspect', { ...good, surprise: 1 })).toMatch(/unevaluated/);
    expect(validate('inspect', { ...good, size: '24000' })).toMatch(/size/);
    expect(validate('error', { ok: false, error: { code: 'x', message: 'y' } })).toMatch(/hint/);
    expect(validate('doctor', { ...json(['doctor', '--board', 'btt-skr-mini']).doc, steps: [] })).toMatch(/steps/);
  });
});

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
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

const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const SCHEMAS = join(process.cwd(), 'docs', 'schemas');
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));
function schemaErrors(doc: unknown): string {
  const v = ajv.getSchema('flash-sdcard.schema.json')!;
  return v(doc) ? '' : ajv.errorsText(v.errors);
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

  it('--dry-run connects, reads the card and prints the plan; the card image stays byte-identical', async () => {
    const img = join(dir, 'dry.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'creality-v4.2.2', 'v0.13.0-dry');
    const tty = join(dir, 'creality');
    const before = sha256Of(img);
    const sim = await simulate(['--board', 'creality-v4.2.2', '--card', img, '--port-link', tty]);
    const human = fwcard(['flash-sdcard', '--dry-run', '-f', fw.bin, '-d', fw.dict, tty, 'creality-v4.2.2']);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Plan for creality-v4\.2\.2 on .*nothing was written to the card/m);
    expect(human.stdout).toMatch(/upload .* as \/FWCARD\.TMP, read it back, compare/);
    expect(human.stdout).toMatch(/create \/fw[0-9a-z]{6}\.bin/);
    expect(human.stdout).toMatch(/stop: the bootloader flashes it after a power cycle/);
    expect(human.stdout).toMatch(/verification deferred: .*-c after a power cycle/);
    const json = fwcard(['flash-sdcard', '--dry-run', '--json', '-f', fw.bin, '-d', fw.dict, tty, 'creality-v4.2.2']);
    expect(json.status, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(schemaErrors(doc)).toBe('');
    expect(doc).toMatchObject({ ok: true, dryRun: true, plan: { mode: 'upload', board: 'creality-v4.2.2', device: tty, after: 'power-cycle', upload: { temporary: '/FWCARD.TMP', uniqueName: true, replaces: false }, verification: { methods: ['deferred'] }, pendingUndo: null } });
    expect(doc.plan.firmware.sha256).toMatch(/^[0-9a-f]{64}$/);
    const check = fwcard(['flash-sdcard', '--dry-run', '-c', '--json', '-f', fw.bin, tty, 'creality-v4.2.2']);
    expect(check.status, check.stderr).toBe(0);
    const checkDoc = JSON.parse(check.stdout);
    expect(schemaErrors(checkDoc)).toBe('');
    // Without -d the dictionary inside the firmware names the version.
    expect(checkDoc.plan).toMatchObject({ mode: 'check', upload: null, after: null, verification: { methods: ['dictionary'] } });
    await sims.stop(sim);
    expect(sha256Of(img)).toBe(before);
  });

  it("-v --log: the SD driver's trace lines reach the log with their commands and answers", async () => {
    const img = join(dir, 'trace.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-trace');
    const tty = join(dir, 'skr-trace');
    const log = join(dir, 'trace.log');
    const sim = await simulate(['--board', 'btt-skr-v1.3', '--card', img, '--port-link', tty]);
    const r = fwcard(['flash-sdcard', '-v', '--log', log, '-f', fw.bin, '-d', fw.dict, tty, 'btt-skr-v1.3']);
    await sims.stop(sim);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(log, 'utf8');
    // Each SD command with its answer (R1, OCR), under the driver's namespace; before the fix
    // every one of these lines was just "sdcard:spi".
    expect(text).toMatch(/ sdcard:spi: CMD0 \S.*R1 0x01/);
    expect(text).toMatch(/ sdcard:spi: CMD8: .*version 2/);
    expect(text).toMatch(/ sdcard:spi: ACMD41 .*OCR 0x[0-9a-f]{8}/i);
    // The data transfers too: the upload's multi-block writes and the read-back's reads, with
    // their arguments and R1.
    expect(text).toMatch(/ sdcard:spi: CMD25 arg 0x[0-9a-f]+ \(sector \d+, \d+ block\(s\)\): R1 0x00/);
    expect(text).toMatch(/ sdcard:spi: CMD1[78] arg 0x[0-9a-f]+ \(sector \d+, \d+ block\(s\)\): R1 0x00/);
    expect(text).not.toMatch(/ sdcard:spi$/m);
    expect(text).toMatch(/ klipper: identified lpc1768 /);
    expect(text).toMatch(/ progress: upload: uploading \/firmware\.bin/);
    expect(r.stderr).toMatch(/\[trace\] sdcard:spi: CMD0 /);
  });
});

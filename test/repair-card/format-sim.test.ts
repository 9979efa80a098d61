import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { probeCard } from '../../src/partition/probe.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { CLI, fsckFat, mcopyOut, mdir, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { build, flashWith, makeCard, startRig, START } from '../flash-sdcard/helpers.js';
import { makeForeignCard } from './cards.js';

// flash-sdcard --format against the simulated SKR 1.3: in process for the card kinds, and through
// a pty (`fwcard simulate --port-link`) for the confirmation rules as a user meets them.
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});
const BOARD = 'btt-skr-v1.3';
const SCHEMAS = join(process.cwd(), 'docs', 'schemas');
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));
function schemaErrors(doc: unknown): string {
  const v = ajv.getSchema('flash-sdcard.schema.json')!;
  return v(doc) ? '' : ajv.errorsText(v.errors);
}
const sha = (p: string) => execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]!;
const fwcard = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FWCARD_STATE_DIR: join(dir, 'state'), FWCARD_LOCK_DIR: join(dir, 'locks') } });

async function newVolume(img: string): Promise<{ start: number; sectors: number; fs: string }> {
  const d = openImageFile(img, { readOnly: true });
  try {
    const p = await probeCard(d);
    expect(p.table).toBe('mbr');
    return { start: p.partitions[0]!.start, sectors: p.partitions[0]!.sectors, fs: p.partitions[0]!.fs };
  } finally {
    await d.close();
  }
}

describe('flash-sdcard --format on the simulated board', () => {
  for (const kind of ['exfat-mbr', 'ntfs-whole', 'gpt'] as const) {
    it(`${kind}: re-created, uploaded, flashed by the simulated bootloader; fsck.fat and mtools accept the volume`, async () => {
      const img = join(dir, `${kind}.img`);
      makeForeignCard(img, kind, 128);
      const fw = build(dir, BOARD, `v0.13.0-${kind}`);
      const rig = startRig(BOARD, img, { capacityType: 'SDSC' });
      let asked = 0;
      try {
        const r = await flashWith(rig, { board: BOARD, firmware: fw.bin, dictionary: fw.dict, format: true, confirmRepair: async (s) => {
          asked++;
          expect(s.needed).toBe(true);
          expect(s.now.table).toBe(kind === 'gpt' ? 'gpt' : kind === 'ntfs-whole' ? 'none' : 'mbr');
          return true;
        } });
        expect(r.repair?.status).toBe('repaired');
        expect(r.verification).toBe('dictionary');
        expect(r.version).toBe(`v0.13.0-${kind}`);
        expect(rig.sim.boots.at(-1)?.outcome.kind).toBe('flashed');
      } finally {
        await rig.close();
      }
      expect(asked).toBe(1);
      const v = await newVolume(img);
      expect(v.fs).toBe('FAT16');
      const f = fsckFat(img, v.start * 512, v.sectors * 512);
      expect(f.ok, f.output).toBe(true);
      expect(mdir(img, v.start * 512)).toMatch(/FIRMWARE\s+CUR/i);
      expect(mcopyOut(img, v.start * 512, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
    });
  }

  it('a card the bootloader reads is never re-created: --format changes nothing but the upload', async () => {
    const img = join(dir, 'good.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, BOARD, 'v0.13.0-good');
    const rig = startRig(BOARD, img, { capacityType: 'SDSC' });
    try {
      const r = await flashWith(rig, { board: BOARD, firmware: fw.bin, dictionary: fw.dict, format: true, confirmRepair: () => Promise.reject(new Error('must not ask')) });
      expect(r.repair?.status).toBe('not-needed');
    } finally {
      await rig.close();
    }
    expect((await newVolume(img)).start).toBe(START);
    expect(fsckFat(img, START * 512).status).toBe(0);
  });

  it('through a pty: without a terminal and without --yes, exit 2 and the card is byte-identical; --dry-run likewise shows the plan; --yes repairs and flashes', async () => {
    const img = join(dir, 'pty.img');
    makeForeignCard(img, 'exfat-mbr', 128);
    const fw = build(dir, BOARD, 'v0.13.0-pty');
    const tty = join(dir, 'skr');
    const sim = await sims.start(['--board', BOARD, '--card', img, '--port-link', tty]);
    const before = sha(img);
    const no = fwcard(['flash-sdcard', '--format', '-f', fw.bin, '-d', fw.dict, '--json', tty, BOARD]);
    expect(no.status, no.stderr).toBe(2);
    expect(JSON.parse(no.stdout).error.code).toBe('confirmation-needed');
    const dryJson = fwcard(['flash-sdcard', '--format', '--dry-run', '--json', '-f', fw.bin, '-d', fw.dict, tty, BOARD]);
    expect(dryJson.status, dryJson.stderr).toBe(0);
    expect(JSON.parse(dryJson.stdout).plan.repair.needed).toBe(true);
    expect(schemaErrors(JSON.parse(dryJson.stdout))).toBe('');
    const dry = fwcard(['flash-sdcard', '--format', '--dry-run', '-f', fw.bin, '-d', fw.dict, tty, BOARD]);
    expect(dry.status, dry.stderr).toBe(0);
    // Wrapped to 80 columns: judge the words, not the line breaks.
    const words = dry.stdout.replace(/\s+/g, ' ');
    expect(words).toMatch(/cannot read the card/);
    expect(words).toMatch(/exFAT "PCCARD"/);
    expect(words).toMatch(/the rest of the card is left unused; .* `fwcard prepare \/dev\/sdX --board/);
    for (const l of dry.stdout.split('\n')) if (/re-create|rest of the card|cannot read/.test(l)) expect(l.length).toBeLessThanOrEqual(80);
    const plain = fwcard(['flash-sdcard', '-f', fw.bin, '-d', fw.dict, '--json', tty, BOARD]);
    expect(plain.status).not.toBe(0);
    expect(JSON.parse(plain.stdout).error.hint).toMatch(/--format/);
    expect(sha(img)).toBe(before);
    const yes = fwcard(['flash-sdcard', '--format', '--yes', '-f', fw.bin, '-d', fw.dict, '--json', tty, BOARD]);
    expect(yes.status, yes.stderr).toBe(0);
    const doc = JSON.parse(yes.stdout);
    expect(doc.repair.status).toBe('repaired');
    expect(schemaErrors(doc)).toBe('');
    expect(doc.version).toBe('v0.13.0-pty');
    await sims.stop(sim);
    const v = await newVolume(img);
    expect(fsckFat(img, v.start * 512, v.sectors * 512).ok).toBe(true);
    expect(mdir(img, v.start * 512)).toMatch(/FIRMWARE\s+CUR/i);
  });
});

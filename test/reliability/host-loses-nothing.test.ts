import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdirSync, openSync, readFileSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error plain-JS campaign script (bench/faults.js) over the built dist/
import { counts, hostGuard, makeBystanderCard, makeCardImage, readCardTree, rng } from '../../bench/faults.js';
// @ts-expect-error plain-JS campaign helper
import { judgeFix } from '../../bench/faults/check-fix.js';
// @ts-expect-error plain-JS campaign helper
import { mtoolsOk } from '../../bench/faults/card-tree.js';
// @ts-expect-error plain-JS campaign helper
import { seedBystanders } from '../../bench/faults/bystanders.js';
import { removeDir, runCli, tempDir } from '../helpers/judges.js';

// Issue 7, "the host loses nothing": the judges the fault campaigns use must see every kind of
// loss, or a clean campaign proves nothing. Each is shown a card or host directory damaged in one
// way and must say so; and shown the firmware path changed, it must not. The campaigns themselves
// (test/reliability/*.test.ts) run them after every flash-sdcard and check --fix run.
const scratch = tempDir('fwcard-rel-host-');
afterAll(() => removeDir(scratch));

const OFF = 2048 * 512;
type Tree = { geometry: { start: number; dataStart: number; sectorsPerCluster: number }; entries: Map<string, { chain: number[]; slots: { sector: number; offset: number }[] }> };

function patch(img: string, at: number, bytes: Uint8Array): void {
  const fd = openSync(img, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
}

function clusterOffset(t: Tree, cluster: number): number {
  return (t.geometry.start + t.geometry.dataStart + (cluster - 2) * t.geometry.sectorsPerCluster) * 512;
}

function slotOffset(t: Tree, s: { sector: number; offset: number }): number {
  return (t.geometry.start + s.sector) * 512 + s.offset;
}

describe('the host-loses-nothing judge of the flash-sdcard campaigns', () => {
  const hostDir = join(scratch, 'host');
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(join(hostDir, 'klipper.bin'), Buffer.alloc(12_000, 0x42));
  writeFileSync(join(hostDir, 'klipper.dict'), '{"version": "v0.13.0"}');
  const img = join(scratch, 'card.img');

  const damages: [string, (t: Tree) => void, RegExp][] = [
    ['one byte of a file', (t) => patch(img, clusterOffset(t, t.entries.get('/c2048.dat')!.chain[0]!) + 100, Uint8Array.of(0xff)), /C2048\.DAT: bytes changed.*mcopy reads other bytes/],
    ['an attribute (mattrib -r)', () => mtoolsOk('mattrib', img, OFF, ['-r', '::/NOTES.TXT']), /NOTES\.TXT: attributes RHSA → HSA.*mattrib/],
    ['a write time', (t) => patch(img, slotOffset(t, t.entries.get('/printer.cfg')!.slots[0]!) + 22, Uint8Array.of(0, 0)), /printer\.cfg: directory entry bytes changed/],
    ['a file deleted in a subfolder', () => mtoolsOk('mdel', img, OFF, ['::/old/firmware.bin']), /\/old\/firmware\.bin: gone/],
    ['a firmware-like name deleted', () => mtoolsOk('mdel', img, OFF, ['::/klipper-v0.11-backup.bin']), /klipper-v0\.11-backup\.bin: gone/],
    ['a file added to a folder', () => mtoolsOk('mmd', img, OFF, ['::/gcodes/new']), /\/gcodes\/new: appeared/],
    ['the volume label', () => mtoolsOk('mlabel', img, OFF, ['::OTHER']), /label/],
  ];

  for (const [what, damage, says] of damages) {
    it(`sees ${what}`, async () => {
      const guard = await hostGuard(scratch, hostDir);
      const baseline: Tree = await makeBystanderCard(img, scratch);
      damage(baseline);
      const c = counts('self-test');
      expect(await guard.check(c, 'part', img, baseline, 'after')).toBe(false);
      expect(c.invariantViolations).toBe(1);
      expect(c.problems[0]).toMatch(says);
    });
  }

  it('sees a -f/-d file touched, and a file appearing beside them', async () => {
    const guard = await hostGuard(scratch, hostDir);
    const baseline = await makeBystanderCard(img, scratch);
    utimesSync(join(hostDir, 'klipper.dict'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    writeFileSync(join(hostDir, 'klipper.bin.tmp'), 'x');
    const c = counts('self-test');
    expect(await guard.check(c, 'part', img, baseline, 'after')).toBe(false);
    expect(c.problems[0]).toMatch(/klipper\.dict changed.*klipper\.bin\.tmp appeared/);
  });

  it('lets the firmware path change: firmware.bin, FIRMWARE.CUR, FWCARD.TMP', async () => {
    const guard = await hostGuard(scratch, hostDir);
    const baseline = await makeBystanderCard(img, scratch);
    for (const name of ['firmware.bin', 'FIRMWARE.CUR', 'FWCARD.TMP']) {
      writeFileSync(join(scratch, name), Buffer.alloc(9000, name.length));
      mtoolsOk('mcopy', img, OFF, [join(scratch, name), `::/${name}`]);
    }
    const c = counts('self-test');
    expect(await guard.check(c, 'part', img, baseline, 'after'), c.problems.join('\n')).toBe(true);
    expect(c.judged).toMatchObject({ cards: 1, hosts: 1 });
  });
});

describe('the check --fix judge of the bad-input campaign', () => {
  const img = join(scratch, 'fix.img');
  const file = (name: string, bytes: Buffer): string => {
    const p = join(scratch, name);
    writeFileSync(p, bytes);
    return p;
  };

  /** A card with the user's files, an AppleDouble file and a near-miss name, before and after a real check --fix. */
  async function fixedCard() {
    makeCardImage(img);
    seedBystanders(img, OFF, scratch, rng(11));
    mtoolsOk('mcopy', img, OFF, [file('._firmware.bin', Buffer.alloc(4096, 1)), '::/._firmware.bin']);
    mtoolsOk('mcopy', img, OFF, [file('firmware(1).bin', Buffer.alloc(9000, 2)), '::/firmware(1).bin']);
    const before = await readCardTree(img, scratch);
    const bytesBefore = readFileSync(img);
    const r = runCli(['check', img, '--fix', '--json']);
    expect(r.status === 0 || r.status === 1, r.stderr).toBe(true);
    const doc = JSON.parse(r.stdout);
    return { before, bytesBefore, doc, after: await readCardTree(img, scratch), bytesAfter: readFileSync(img) };
  }

  it('finds nothing wrong with a real --fix: a delete and a rename, both reported', async () => {
    const run = await fixedCard();
    const j = judgeFix(run);
    expect(j.problems).toEqual([]);
    expect(j.done.sort()).toEqual(['delete', 'rename']);
  });

  it('sees a fix applied that no finding reported', async () => {
    const run = await fixedCard();
    run.doc.fix.before.findings = run.doc.fix.before.findings.filter((f: { id: string }) => f.id !== 'appledouble-files');
    expect(judgeFix(run).problems.join('\n')).toMatch(/applied a fix no finding reported: appledouble-files: delete \/\._firmware\.bin/);
  });

  it('sees a change the outcome says was not made', async () => {
    const run = await fixedCard();
    for (const o of run.doc.fix.applied) if (o.id === 'appledouble-files') o.done = false;
    expect(judgeFix(run).problems.join('\n')).toMatch(/\/\._firmware\.bin: gone without a reported fix/);
  });

  it('sees a user file deleted besides the reported fixes', async () => {
    const run = await fixedCard();
    mtoolsOk('mdel', img, OFF, ['::/gcodes/part 03 of a long print job.gcode']);
    const after = await readCardTree(img, scratch);
    const problems = judgeFix({ ...run, after, bytesAfter: readFileSync(img) }).problems.join('\n');
    expect(problems).toMatch(/part 03 of a long print job\.gcode: gone without a reported fix/);
    expect(problems).toMatch(/FAT entry \d+ \(\/gcodes\/part 03 of a long print job\.gcode\) changed/);
    expect(problems).toMatch(/directory slot at sector \d+ offset \d+ changed without a reported fix/);
  });

  it('sees a data sector written, by the sector comparison alone', async () => {
    const run = await fixedCard();
    const free = (run.after.geometry.start + run.after.geometry.dataStart + 10_000 * run.after.geometry.sectorsPerCluster) * 512;
    run.bytesAfter[free] ^= 0xff;
    expect(judgeFix(run).problems.join('\n')).toMatch(/data sector \d+ \(cluster 10002\) changed/);
  });
});

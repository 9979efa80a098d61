import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check } from '../../src/flows/check.js';
import { fingerprint, removeDir, tempDir } from '../helpers/judges.js';
import { FIRMWARE, MiB, fatCard, findBytes, fsck, listing, localFile, mattrib, mcopy, mmd, mtype, patch } from './cards.js';

let dir: string;
let fw: Buffer;
beforeAll(() => {
  dir = tempDir('fwcard-checkfix-');
  fw = readFileSync(FIRMWARE);
});
afterAll(() => removeDir(dir));

const SIZE = 128 * MiB;
const START = 2048;

/** 512-byte sectors that differ between two images. */
function changedSectors(a: Buffer, b: Buffer): number[] {
  const out: number[] = [];
  for (let s = 0; s * 512 < a.length; s++) if (a.compare(b, s * 512, s * 512 + 512, s * 512, s * 512 + 512) !== 0) out.push(s);
  return out;
}

/** Card with user files that --fix must leave alone. */
function userCard(name: string): { path: string; off: number; notes: Buffer; cfg: Buffer } {
  const path = join(dir, `${name}.img`);
  const off = fatCard(path, SIZE, ['-F', '32', '-s', '1'], 'c', START);
  const notes = Buffer.from('printer.cfg backup, do not delete\n'.repeat(300));
  const cfg = Buffer.alloc(70_000, 7);
  mcopy(path, off, localFile(dir, 'notes.txt', notes), 'My Notes.txt');
  mmd(path, off, 'configs');
  mcopy(path, off, localFile(dir, 'cfg.bin', cfg), 'configs/printer-backup.bin');
  return { path, off, notes, cfg };
}

function userFilesIntact(path: string, off: number, notes: Buffer, cfg: Buffer): void {
  expect(mtype(path, off, 'My Notes.txt').equals(notes)).toBe(true);
  expect(mtype(path, off, 'configs/printer-backup.bin').equals(cfg)).toBe(true);
}

/** fsck.fat -n finds nothing to fix (exit 0 and no complaint). */
function fsckClean(path: string, off: number): void {
  const r = fsck(path, off, SIZE / 512 - START);
  expect(r.output).not.toMatch(/orphan|wrong checksum|differ|dirty|invalid|lost|truncat/i);
  expect(r.status, r.output).toBe(0);
}

describe('check --fix changes only what it reports', () => {
  it('check without --fix writes nothing', async () => {
    const { path, off } = userCard('nofix');
    mcopy(path, off, FIRMWARE, 'firmware(1).bin');
    const before = fingerprint(path);
    const r = await check({ target: path });
    expect(r.ok).toBe(false);
    expect(fingerprint(path)).toBe(before);
  });

  it('renames a near-miss firmware name; fsck.fat and mtools agree; user files untouched', async () => {
    const { path, off, notes, cfg } = userCard('rename');
    mcopy(path, off, FIRMWARE, 'firmware(1).bin');
    const img0 = readFileSync(path);
    const r = await check({ target: path, board: 'btt-octopus-f446-v1', fix: true });
    expect(r.fix?.before.ok).toBe(false);
    expect(r.fix?.before.findings.map((f) => f.id)).toContain('firmware-name-near-miss');
    expect(r.fix?.applied).toHaveLength(1);
    expect(r.fix?.applied[0]).toMatchObject({ id: 'firmware-name-near-miss', done: true });
    // In the names the user sees, not the 8.3 alias FatFs was given (issue 16).
    expect(r.fix?.applied[0]!.action).toMatchObject({ kind: 'rename', from: '/firmware(1).bin', to: '/firmware.bin' });
    expect(r.fix?.applied[0]!.action).toMatchObject({ fromShort: expect.stringMatching(/^\/FIRMWA~\d\.BIN$/) });
    expect(r.ok).toBe(true);
    expect(r.files?.firmware?.path).toBe('/firmware.bin');
    const l = listing(path, off);
    expect(l).toMatch(/^firmware\s+bin\s/m);
    expect(l).not.toMatch(/firmware\(1\)/);
    expect(mtype(path, off, 'firmware.bin').equals(fw)).toBe(true);
    userFilesIntact(path, off, notes, cfg);
    fsckClean(path, off);
    // Only root-directory sectors changed: the rename touches no FAT sector and no data.
    const img1 = readFileSync(path);
    const rootDataSector = START + 32 + 2 * (img0.readUInt32LE(START * 512 + 36));
    for (const s of changedSectors(img0, img1)) expect(s).toBe(rootDataSector);
  });

  it('removes AppleDouble files and macOS folders (with their contents), nothing else', async () => {
    const { path, off, notes, cfg } = userCard('junk');
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    mcopy(path, off, localFile(dir, 'ad.bin', Buffer.alloc(4096, 1)), '._firmware.bin');
    mmd(path, off, '.Spotlight-V100');
    mmd(path, off, '.Spotlight-V100/Store-V2');
    mcopy(path, off, localFile(dir, 'idx', Buffer.alloc(20_000, 3)), '.Spotlight-V100/Store-V2/index.db');
    mmd(path, off, '.fseventsd');
    mcopy(path, off, localFile(dir, 'fse', Buffer.alloc(100, 4)), '.fseventsd/fseventsd-uuid');
    const r = await check({ target: path, fix: true });
    expect(r.fix?.before.findings.map((f) => f.id)).toEqual(expect.arrayContaining(['appledouble-files', 'macos-metadata']));
    expect(r.fix?.applied.every((a) => a.done)).toBe(true);
    // Reported by the names the user sees (issue 16: they were /_FIRMW~1.BIN and /SPOTLI~1).
    const deleted = r.fix!.applied.map((a) => (a.action.kind === 'delete' ? a.action.path : '')).sort();
    expect(deleted).toEqual(['/.Spotlight-V100', '/._firmware.bin', '/.fseventsd']);
    expect(r.fix!.applied.map((a) => (a.action.kind === 'delete' ? a.action.shortPath : '')).join(' ')).toMatch(/~/);
    expect(r.findings.map((f) => f.id)).not.toContain('appledouble-files');
    expect(r.findings.map((f) => f.id)).not.toContain('macos-metadata');
    const l = listing(path, off);
    expect(l).not.toMatch(/Spotlight|fseventsd|\._firmware/);
    expect(mtype(path, off, 'firmware.bin').equals(fw)).toBe(true);
    userFilesIntact(path, off, notes, cfg);
    fsckClean(path, off);
  });

  it('clears an orphaned long name by marking its slots deleted; FIRMWARE.CUR keeps its bytes', async () => {
    const { path, off, notes, cfg } = userCard('lfn');
    mcopy(path, off, FIRMWARE, 'Firmware.bin');
    const hits = findBytes(path, Buffer.from('FIRMWAREBIN'), off * 512, off * 512 + 4 * MiB);
    expect(hits).toHaveLength(1);
    patch(path, hits[0]!, Buffer.from('FIRMWARECUR'));
    expect(fsck(path, off, SIZE / 512 - START).output).toMatch(/wrong checksum for long file name/i);
    const img0 = readFileSync(path);
    const r = await check({ target: path, board: 'btt-skr-pro', fix: true });
    expect(r.fix?.applied.map((a) => [a.id, a.done])).toEqual([['lfn-orphaned', true]]);
    expect(r.findings.map((f) => f.id)).not.toContain('lfn-orphaned');
    // Still no firmware.bin: --fix does not invent one, it says how to write it.
    expect(r.findings.filter((f) => f.severity !== 'info').map((f) => f.id)).toEqual(['firmware-missing']);
    expect(r.findings.map((f) => f.id)).toContain('firmware-previously-flashed');
    const img1 = readFileSync(path);
    const changed = changedSectors(img0, img1);
    expect(changed).toHaveLength(1);
    expect(changed[0]).toBe(Math.floor(hits[0]! / 512));
    expect(mtype(path, off, 'FIRMWARE.CUR').equals(fw)).toBe(true);
    userFilesIntact(path, off, notes, cfg);
    fsckClean(path, off);
  });

  it('fixes the case of the name on a case-sensitive board', async () => {
    const { path, off, notes, cfg } = userCard('case');
    mcopy(path, off, FIRMWARE, 'ROBIN_E3.BIN');
    const r = await check({ target: path, board: 'mks-robin-e3', fix: true });
    expect(r.fix?.applied.map((a) => [a.id, a.done])).toEqual([['firmware-name-case', true]]);
    expect(r.findings.map((f) => f.id)).not.toContain('firmware-name-case');
    expect(listing(path, off)).toMatch(/Robin_e3\.bin/);
    userFilesIntact(path, off, notes, cfg);
    fsckClean(path, off);
  });

  it('leaves a card alone when nothing it finds is fixable', async () => {
    const { path } = userCard('unfixable');
    const before = fingerprint(path);
    const r = await check({ target: path, fix: true });
    expect(r.ok).toBe(false);
    expect(r.fix?.applied).toEqual([]);
    expect(fingerprint(path)).toBe(before);
  });

  it('clears the long name a deleted file left behind', async () => {
    const { path, off, notes, cfg } = userCard('lfnleft');
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    // Empty, so that deleting its 8.3 entry leaves no clusters behind: only the long name is left.
    mcopy(path, off, localFile(dir, 'empty', ''), 'Old Firmware Copy.bin');
    const [at] = findBytes(path, Buffer.from('OLDFIR~1BIN'), off * 512, off * 512 + 4 * MiB);
    patch(path, at!, Uint8Array.of(0xe5)); // deleted by a writer that ignores long names
    const r = await check({ target: path, fix: true });
    expect(r.fix?.applied.map((a) => [a.id, a.done])).toEqual([['lfn-deleted-entry-left', true]]);
    expect(r.findings.map((f) => f.id)).not.toContain('lfn-deleted-entry-left');
    expect(mtype(path, off, 'firmware.bin').equals(fw)).toBe(true);
    userFilesIntact(path, off, notes, cfg);
    fsckClean(path, off);
  });

  it('deletes a macOS folder whole or not at all: one read-only file in it and nothing is deleted', async () => {
    const { path, off, notes, cfg } = userCard('trash');
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    mmd(path, off, '.Trashes');
    mmd(path, off, '.Trashes/501');
    mcopy(path, off, localFile(dir, 'a.gcode', Buffer.alloc(2000, 5)), '.Trashes/501/first print.gcode');
    mcopy(path, off, localFile(dir, 'b.gcode', Buffer.alloc(3000, 6)), '.Trashes/501/locked print.gcode');
    mattrib(path, off, ['+r'], '.Trashes/501/locked print.gcode');
    const before = fingerprint(path);
    const r = await check({ target: path, fix: true });
    // FatFs refuses the read-only file; the files before it in the folder were deleted first
    // and the outcome said "not fixed" (bad-input fault campaign, check --fix part).
    expect(r.fix?.applied).toHaveLength(1);
    expect(r.fix?.applied[0]).toMatchObject({ id: 'macos-metadata', done: false });
    expect(r.fix?.applied[0]!.error).toMatch(/locked print\.gcode is read-only: nothing was deleted/i);
    expect(fingerprint(path)).toBe(before);
    expect(mtype(path, off, '.Trashes/501/first print.gcode').equals(Buffer.alloc(2000, 5))).toBe(true);
    userFilesIntact(path, off, notes, cfg);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachLoop, detachLoop, fingerprint, removeDir, runCli, tempDir } from '../helpers/judges.js';
import { FIRMWARE, GiB, MiB, blank, fatCard, fsck, listing, localFile, mcopy, mtype, placeFs, run, sfdisk } from './cards.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('fwcard-checkcli-');
});
afterAll(() => removeDir(dir));

describe('fwcard check (CLI)', () => {
  it('exit 0 and one --json document with ok, card, files, findings', () => {
    const img = join(dir, 'good.img');
    const off = fatCard(img, 4 * GiB, ['-F', '32']);
    mcopy(img, off, FIRMWARE, 'firmware.bin');
    const res = runCli(['check', img, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--json']);
    expect(res.status, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.card).toMatchObject({ sizeBytes: 4 * GiB, sectorSize: 512, kind: 'SDHC', table: 'mbr' });
    expect(doc.card.partitions[0]).toMatchObject({ slot: 0, start: 8192, type: 0x0c, fs: 'FAT32' });
    expect(doc.card.volume).toMatchObject({ fs: 'FAT32', bytesPerSector: 512, fatCount: 2, dirty: false });
    expect(doc.files.firmware).toMatchObject({ path: '/firmware.bin', size: readFileSync(FIRMWARE).length, contiguous: true, matchesGiven: true });
    for (const f of doc.findings) expect(Object.keys(f)).toEqual(expect.arrayContaining(['id', 'severity', 'message', 'hint']));
  });

  it('exit 1 with errors first in the human table and a verdict line', () => {
    const img = join(dir, 'exfat.img');
    blank(img, 64 * GiB);
    sfdisk(img, 'label: dos\nstart=32768, type=7\n');
    placeFs(img, 32768, 64 * MiB, (p) => run('mkfs.exfat', [p]));
    const res = runCli(['check', img, '--board', 'btt-skr-mini-e3-v3.0.1', '--no-color']);
    expect(res.status).toBe(1);
    const lines = res.stdout.trim().split('\n');
    const sev = lines.filter((l) => /^\s+(error|warning|info)\s/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(sev[0]).toBe('error');
    expect(sev).toEqual([...sev].sort((a, b) => ['error', 'warning', 'info'].indexOf(a!) - ['error', 'warning', 'info'].indexOf(b!)));
    expect(res.stdout).toMatch(/filesystem-exfat/);
    expect(res.stdout).toMatch(/fwcard prepare .*exfat\.img --board btt-skr-mini-e3-v3\.0\.1/);
    expect(lines[lines.length - 1]).toMatch(/will not flash btt-skr-mini-e3-v3\.0\.1: 1 error/);
  });

  it('exit 2 when it cannot check: missing target, a directory, an unknown board', () => {
    const missing = runCli(['check', join(dir, 'nope.img'), '--json']);
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const d = join(dir, 'adir');
    mkdirSync(d, { recursive: true });
    expect(runCli(['check', d]).status).toBe(2);
    const img = join(dir, 'good.img');
    const unknown = runCli(['check', img, '--board', 'octopuss']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown board/);
  });

  it('reads a real block device read-only, and --fix repairs it through the loop device', () => {
    const backing = join(dir, 'loop.img');
    const off = fatCard(backing, 256 * MiB, ['-F', '32', '-s', '1'], 'c', 2048);
    mcopy(backing, off, FIRMWARE, 'firmware (1).bin');
    mcopy(backing, off, localFile(dir, 'keep.txt', 'keep me\n'), 'keep.txt');
    const loop = attachLoop(backing, 0, undefined, false);
    try {
      const before = fingerprint(backing);
      const ro = runCli(['check', loop, '--json']);
      expect(ro.status, ro.stderr).toBe(1);
      expect(JSON.parse(ro.stdout).findings.filter((f: { severity: string }) => f.severity !== 'info').map((f: { id: string }) => f.id)).toEqual(['firmware-name-near-miss']);
      expect(fingerprint(backing)).toBe(before);
      const fixed = runCli(['check', loop, '--fix', '--no-color']);
      expect(fixed.status, fixed.stdout + fixed.stderr).toBe(0);
      expect(fixed.stdout).toMatch(/before: ✘ will not flash/);
      expect(fixed.stdout).toMatch(/fixed: renamed .* → \/firmware\.bin/);
      expect(fixed.stdout).toMatch(/after: ✔ ready to flash/);
    } finally {
      detachLoop(loop);
    }
    expect(listing(backing, 2048)).toMatch(/^firmware\s+bin/m);
    expect(mtype(backing, 2048, 'firmware.bin').equals(readFileSync(FIRMWARE))).toBe(true);
    expect(mtype(backing, 2048, 'keep.txt').toString()).toBe('keep me\n');
    expect(fsck(backing, 2048).status).toBe(0);
  });

  it('the prepare command in a hint fixes what it names', () => {
    const img = join(dir, 'fixme.img');
    blank(img, 64 * GiB);
    sfdisk(img, 'label: dos\nstart=32768, type=7\n');
    placeFs(img, 32768, 64 * MiB, (p) => run('mkfs.exfat', [p]));
    const res = runCli(['check', img, '--board', 'creality-v4.2.2', '--json']);
    expect(res.status).toBe(1);
    const finding = JSON.parse(res.stdout).findings.find((f: { id: string }) => f.id === 'filesystem-exfat');
    const hint: string = finding.hint;
    const cmd = /`fwcard (prepare [^`]+)`/.exec(hint)![1]!.replace('<firmware.bin>', FIRMWARE).split(' ');
    expect(cmd).toEqual(expect.arrayContaining(['--fs', 'fat32', '--cluster', '4096']));
    // The hint's command is rendered from the structured remedy: the same words, as argv.
    expect(finding.remedy.argv).toEqual(['fwcard', 'prepare', img, '--board', 'creality-v4.2.2', '--firmware', '<firmware.bin>', '--fs', 'fat32', '--cluster', '4096']);
    expect(hint).toContain(`\`${finding.remedy.argv.join(' ')}\``);
    expect(finding.remedy.why).toMatch(/erases the card/);
    const prep = runCli([...cmd, '--yes', '--force', '--json']);
    expect(prep.status, prep.stderr).toBe(0);
    const after = runCli(['check', img, '--board', 'creality-v4.2.2', '--json']);
    const doc = JSON.parse(after.stdout);
    expect(doc.findings.filter((f: { severity: string; id: string }) => f.severity === 'error' && !f.id.startsWith('image-'))).toEqual([]);
    expect(doc.card.volume).toMatchObject({ fs: 'FAT32', clusterBytes: 4096 });
  });
});

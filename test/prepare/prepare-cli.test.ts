import { describe, expect, it, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { fingerprint, fsckFat, mcopyOut, mdir, removeDir, runCli, tempDir } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const dir = tempDir();
afterAll(() => removeDir(dir));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('fwcard prepare (CLI)', () => {
  it('--json prints one document with the documented fields', () => {
    const img = join(dir, 'a.img');
    const res = runCli(['prepare', img, '--size', '8G', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
    expect(res.status, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ target: img, board: 'btt-octopus-f446-v1', fs: 'FAT32', clusterSize: 32768, partitionStart: 8192, firmwarePath: '/firmware.bin', verified: true });
    expect(doc.sha256).toBe(sha(readFileSync(FIRMWARE)));
    // Progress and human text went to stderr, not into the JSON.
    expect(res.stderr).toMatch(/writing \/firmware\.bin/);
  });

  it('--dry-run prints the whole plan and writes nothing', () => {
    const img = join(dir, 'a.img');
    const before = fingerprint(img);
    const res = runCli(['prepare', img, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--fs', 'fat32', '--cluster', '4096', '--dry-run']);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/nothing was written/);
    expect(res.stdout).toMatch(/partition: start sector 8192/);
    expect(res.stdout).toMatch(/FAT32, 4\.00 KiB clusters/);
    expect(res.stdout).toMatch(/reserved sectors: \d+; FATs: 2 × \d+ sectors/);
    expect(res.stdout).toMatch(/aligned to the 4\.00 MiB boundary unit/);
    expect(res.stdout).toMatch(/\/firmware\.bin/);
    expect(fingerprint(img)).toBe(before);
    const nofile = join(dir, 'never.img');
    expect(runCli(['prepare', nofile, '--size', '2G', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--dry-run']).status).toBe(0);
    expect(fingerprint(nofile)).toBe('absent');
  });

  it('a unique-name board (Creality 4.2.x) gets a fresh 8.3 name, and --no-format removes the old .bin files', () => {
    const img = join(dir, 'creality.img');
    // A Creality 4.2.2 build: STM32F103, linked after the 28 KiB bootloader.
    const F103 = join(dir, 'f103.bin');
    writeFileSync(F103, makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, size: 40_000, klipper: true }).bytes);
    const first = runCli(['prepare', img, '--size', '4G', '--board', 'creality-v4.2.2', '--firmware', F103, '--yes', '--json']);
    expect(first.status, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.firmwarePath).toMatch(/^\/fw[0-9a-z]{6}\.bin$/);
    // A second update a few seconds later on the same card: a different name, the old one gone.
    const second = runCli(['prepare', img, '--no-format', '--board', 'creality-v4.2.2', '--firmware', F103, '--yes', '--json']);
    expect(second.status, second.stderr).toBe(0);
    const b = JSON.parse(second.stdout);
    expect(b.firmwarePath).not.toBe(a.firmwarePath);
    expect(b.removed).toEqual([a.firmwarePath]);
    const offset = b.partitionStart * 512;
    const listing = mdir(img, offset);
    expect(listing).not.toMatch(new RegExp(a.firmwarePath.slice(1, 9), 'i'));
    expect(mcopyOut(img, offset, b.firmwarePath, dir).equals(readFileSync(F103))).toBe(true);
    expect(listing).not.toMatch(/FWCARD\s+TMP/i); // the temporary upload name is gone
    expect(fsckFat(img, offset, b.partitionSectors * 512).status).toBe(0);
  });

  it('--no-format keeps other files on the card', () => {
    const img = join(dir, 'keep.img');
    expect(runCli(['prepare', img, '--size', '1G', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes']).status).toBe(0);
    const res = runCli(['prepare', img, '--no-format', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
    expect(res.status, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.formatted).toBe(false);
    expect(doc.verified).toBe(true);
    expect(fsckFat(img, doc.partitionStart * 512, doc.partitionSectors * 512).status).toBe(0);
  });

  it('prepares a batch of cards, each verified, one result per target; a bad target fails alone', () => {
    const a = join(dir, 'batch-a.img');
    const b = join(dir, 'batch-b.img');
    const res = runCli(['prepare', a, b, dir, '--size', '64M', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
    expect(res.status).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.results.map((r: any) => r.target)).toEqual([a, b, dir]);
    expect(doc.results[0]).toMatchObject({ ok: true, verified: true, firmwarePath: '/firmware.bin' });
    expect(doc.results[1]).toMatchObject({ ok: true, verified: true });
    expect(doc.results[2]).toMatchObject({ ok: false, error: { code: 'target-is-directory' } });
    for (const img of [a, b]) {
      const r = doc.results.find((x: any) => x.target === img);
      expect(fsckFat(img, r.partitionStart * 512, r.partitionSectors * 512).status).toBe(0);
      expect(mcopyOut(img, r.partitionStart * 512, '/FIRMWARE.BIN', dir).equals(readFileSync(FIRMWARE))).toBe(true);
    }
  });

  it('--log keeps a trace of every step for bug reports', () => {
    const log = join(dir, 'trace.log');
    const res = runCli(['prepare', join(dir, 'logged.img'), '--size', '64M', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--log', log]);
    expect(res.status, res.stderr).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text).toMatch(/^# fwcard prepare /m);
    expect(text).toMatch(/format: /);
    expect(text).toMatch(/verify: verified/);
  });

  it('warns when the card is larger than the board is reported to handle, and names the fix', () => {
    const img = join(dir, 'big-creality.img');
    const F103 = join(dir, 'f103-big.bin');
    writeFileSync(F103, makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, size: 30_000, klipper: true }).bytes);
    const big = JSON.parse(runCli(['prepare', img, '--size', '64G', '--board', 'creality-v4.2.2', '--firmware', F103, '--yes', '--json']).stdout);
    const w = big.findings.find((f: any) => f.id === 'card-larger-than-board-max');
    expect(w?.severity).toBe('warning');
    expect(w?.hint).toMatch(/--partition-size 8G/);
    // Card sizes in GB as sold, the limit too ("32 GB", not 32 GiB shown as a card size).
    expect(w?.message).toMatch(/holds 68\.7 GB; creality-v4\.2\.2 is reported to work with cards up to 32 GB/);
    expect(w?.message).not.toMatch(/GiB/);
    const small = JSON.parse(runCli(['prepare', img, '--size', '64G', '--partition-size', '8G', '--board', 'creality-v4.2.2', '--firmware', F103, '--yes', '--json']).stdout);
    expect(small.findings.find((f: any) => f.id === 'card-larger-than-board-max')?.hint).toMatch(/smaller card/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, type CheckResult } from '../../src/flows/check.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { FIRMWARE, GiB, MiB, blank, fatCard, findBytes, fsck, localFile, mattrib, mcopy, mkfsFat, mmd, patch, placeFs, readAt, run, sfdisk } from './cards.js';

let dir: string;
let fwBytes: Buffer;
beforeAll(() => {
  dir = tempDir('fwcard-check-');
  fwBytes = readFileSync(FIRMWARE);
});
afterAll(() => removeDir(dir));

const ids = (r: CheckResult, sev?: string): string[] => r.findings.filter((f) => !sev || f.severity === sev).map((f) => f.id);
const img = (name: string): string => join(dir, `${name}.img`);

/** A good FAT32 card with firmware.bin: the base most cases vary. */
function goodFat32(name: string, size = 4 * GiB, extra: string[] = []): { path: string; off: number } {
  const path = img(name);
  const off = fatCard(path, size, ['-F', '32', ...extra]);
  mcopy(path, off, FIRMWARE, 'firmware.bin');
  return { path, off };
}

describe('check: verdicts and ids for the cases of issue 5', () => {
  it('a good FAT32/MBR card with firmware is ready (generic and for a board)', async () => {
    const { path } = goodFat32('good');
    const r = await check({ target: path });
    expect(ids(r, 'error')).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.card.table).toBe('mbr');
    expect(r.card.volume?.fs).toBe('FAT32');
    expect(r.files?.firmware?.path).toBe('/firmware.bin');
    expect(r.files?.firmware?.size).toBe(fwBytes.length);
    const b = await check({ target: path, board: 'btt-octopus-f446-v1', firmware: FIRMWARE });
    expect(ids(b, 'error')).toEqual([]);
    expect(ids(b)).toContain('firmware-matches');
    expect(b.ok).toBe(true);
  });

  it('the same card without firmware: firmware-missing', async () => {
    const path = img('nofw');
    fatCard(path, 4 * GiB, ['-F', '32']);
    const r = await check({ target: path, board: 'btt-octopus-f446-v1' });
    expect(r.ok).toBe(false);
    expect(ids(r, 'error')).toEqual(['firmware-missing']);
    expect(r.findings[0]!.hint).toContain(`fwcard prepare ${path} --board btt-octopus-f446-v1 --firmware <firmware.bin> --no-format`);
  });

  it('exFAT: filesystem-exfat with a prepare hint', async () => {
    const path = blank(img('exfat'), 64 * GiB);
    sfdisk(path, 'label: dos\nstart=32768, type=7\n');
    placeFs(path, 32768, 256 * MiB, (p) => run('mkfs.exfat', [p]));
    const r = await check({ target: path, board: 'btt-skr-mini-e3-v3.0.1' });
    expect(r.ok).toBe(false);
    expect(ids(r, 'error')).toEqual(['filesystem-exfat']);
    expect(r.card.kind).toBe('SDXC');
    expect(r.findings[0]!.hint).toMatch(/fwcard prepare .* --board btt-skr-mini-e3-v3\.0\.1/);
  });

  it('NTFS: filesystem-ntfs', async () => {
    const path = blank(img('ntfs'), 1 * GiB);
    sfdisk(path, 'label: dos\nstart=2048, type=7\n');
    placeFs(path, 2048, 256 * MiB, (p) => run('mkntfs', ['-F', '-Q', p]));
    const r = await check({ target: path });
    expect(ids(r, 'error')).toEqual(['filesystem-ntfs']);
    expect(r.ok).toBe(false);
  });

  it('GPT with FAT32 inside: gpt-partition-table', async () => {
    const path = blank(img('gpt'), 2 * GiB);
    run('sgdisk', ['-n', '1:2048:0', '-t', '1:0700', path]);
    mkfsFat(path, ['-F', '32'], 2048, 2 * GiB / 512 - 2048 - 34);
    const r = await check({ target: path, board: 'btt-octopus-f446-v1' });
    expect(r.card.table).toBe('gpt');
    expect(ids(r, 'error')).toEqual(['gpt-partition-table']);
    expect(r.findings[0]!.message).toContain('FAT32 inside');
  });

  it('two partitions with FAT second: fat-not-first-partition', async () => {
    const path = blank(img('twoparts'), 1 * GiB);
    sfdisk(path, 'label: dos\nstart=2048, size=262144, type=83\nstart=264192, type=c\n');
    mkfsFat(path, ['-F', '32'], 264192, 1 * GiB / 512 - 264192);
    mcopy(path, 264192, FIRMWARE, 'firmware.bin');
    const r = await check({ target: path });
    expect(r.ok).toBe(false);
    expect(ids(r, 'error')).toContain('fat-not-first-partition');
    expect(r.card.partitions.map((p) => p.fs)).toEqual(['empty', 'FAT32']);
  });

  it('FAT in a logical partition: first-partition-extended', async () => {
    const path = blank(img('logical'), 1 * GiB);
    sfdisk(path, 'label: dos\nstart=2048, type=5\nstart=4096, type=c\n');
    const logical = 4096;
    mkfsFat(path, ['-F', '32'], logical, 1 * GiB / 512 - logical);
    const r = await check({ target: path });
    expect(ids(r, 'error')).toEqual(['first-partition-extended']);
    expect(r.card.partitions.some((p) => p.logical && p.fs === 'FAT32')).toBe(true);
  });

  it('superfloppy FAT32 depends on the board', async () => {
    const path = blank(img('superfloppy'), 4 * GiB);
    mkfsFat(path, ['-F', '32']);
    mcopy(path, 0, FIRMWARE, 'firmware.bin');
    const generic = await check({ target: path });
    expect(generic.card.table).toBe('none');
    expect(generic.ok).toBe(true);
    expect(generic.findings.find((f) => f.id === 'superfloppy')?.severity).toBe('warning');
    // The catalog says BTT's FatFs bootloaders read a superfloppy.
    const btt = await check({ target: path, board: 'btt-octopus-f446-v1' });
    expect(btt.ok).toBe(true);
    expect(btt.findings.find((f) => f.id === 'superfloppy')?.severity).toBe('info');
    // Creality's entry does not say: warning, and the message says the catalog is silent.
    const cre = await check({ target: path, board: 'creality-v4.2.2' });
    const f = cre.findings.find((x) => x.id === 'superfloppy')!;
    expect(f.severity).toBe('warning');
    expect(f.message).toContain('the catalog does not say');
    // A board that does not read one: error.
    const boards = localFile(dir, 'boards.json', JSON.stringify({ boards: [{ name: 'no-superfloppy', extends: 'btt-octopus-f446-v1', card: { fileSystems: ['FAT16', 'FAT32'], superfloppy: false, gpt: false } }] }));
    const strict = await check({ target: path, board: 'no-superfloppy', boardsFile: boards });
    expect(strict.ok).toBe(false);
    expect(ids(strict, 'error')).toEqual(['superfloppy']);
  });

  it('a 2 GB FAT16 card is ready', async () => {
    const path = img('fat16');
    const off = fatCard(path, 2 * GiB, ['-F', '16', '-s', '64'], '6', 128);
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    const r = await check({ target: path, board: 'btt-octopus-f446-v1' });
    expect(r.card.volume?.fs).toBe('FAT16');
    expect(r.card.kind).toBe('SDSC');
    expect(ids(r, 'error')).toEqual([]);
    expect(r.ok).toBe(true);
    // A FAT32-only board says no.
    const cre = await check({ target: path, board: 'creality-v4.2.2' });
    expect(ids(cre, 'error')).toContain('fat-type-unsupported');
  });

  it('FAT32 with 64 KiB clusters depends on the board', async () => {
    const { path } = goodFat32('c64k', 8 * GiB, ['-s', '128']);
    const generic = await check({ target: path });
    expect(generic.card.volume?.clusterBytes).toBe(65536);
    expect(generic.ok).toBe(true);
    expect(generic.findings.find((f) => f.id === 'cluster-too-large')?.severity).toBe('warning');
    const cre = await check({ target: path, board: 'creality-v4.2.2' });
    expect(cre.ok).toBe(false);
    expect(ids(cre, 'error')).toContain('cluster-too-large');
    expect(cre.findings.find((f) => f.id === 'cluster-too-large')!.hint).toContain('--cluster 4096');
  });

  it('._firmware.bin beside firmware.bin: appledouble-files warning', async () => {
    const { path, off } = goodFat32('appledouble');
    mcopy(path, off, localFile(dir, 'ad.bin', Buffer.alloc(4096, 1)), '._firmware.bin');
    const r = await check({ target: path });
    expect(r.ok).toBe(true);
    expect(r.findings.find((f) => f.id === 'appledouble-files')?.severity).toBe('warning');
    expect(r.files?.junk.map((j) => j.name)).toEqual(['._firmware.bin']);
  });

  it('macOS metadata folders: macos-metadata warning', async () => {
    const { path, off } = goodFat32('spotlight');
    mmd(path, off, '.Spotlight-V100');
    mmd(path, off, '.fseventsd');
    const r = await check({ target: path });
    expect(r.findings.find((f) => f.id === 'macos-metadata')?.message).toContain('.Spotlight-V100');
  });

  it('wrong name: firmware-name-near-miss error', async () => {
    for (const name of ['firmware(1).bin', 'firmware.bin.bin', 'frimware.bin']) {
      const path = img('nearmiss');
      const off = fatCard(path, 1 * GiB, ['-F', '32']);
      mcopy(path, off, FIRMWARE, name);
      const r = await check({ target: path, board: 'btt-skr-pro' });
      expect(r.ok, name).toBe(false);
      expect(ids(r, 'error'), name).toEqual(['firmware-name-near-miss']);
      expect(r.findings[0]!.fix?.[0]).toMatchObject({ kind: 'rename', to: '/firmware.bin' });
    }
  });

  it('FIRMWARE.CUR present: firmware-previously-flashed info', async () => {
    const { path, off } = goodFat32('cur');
    mcopy(path, off, FIRMWARE, 'FIRMWARE.CUR');
    const r = await check({ target: path, board: 'btt-octopus-f446-v1' });
    expect(r.ok).toBe(true);
    expect(r.findings.find((f) => f.id === 'firmware-previously-flashed')?.severity).toBe('info');
    // FYSETC renames to old.bin, and then the card holds no firmware.bin.
    const path2 = img('oldbin');
    const off2 = fatCard(path2, 1 * GiB, ['-F', '32']);
    mcopy(path2, off2, FIRMWARE, 'old.bin');
    const f = await check({ target: path2, board: 'fysetc-spider' });
    expect(ids(f, 'error')).toEqual(['firmware-missing']);
    expect(ids(f, 'info')).toContain('firmware-previously-flashed');
  });

  it('a truncated FAT chain: firmware-chain-truncated error (fsck.fat agrees)', async () => {
    const path = img('truncated');
    const off = fatCard(path, 1 * GiB, ['-F', '32', '-s', '8']);
    mcopy(path, off, FIRMWARE, 'firmware.bin'); // 32 KiB = 8 clusters of 4 KiB
    // FAT32, 32 reserved sectors: the file's chain starts at cluster 3 (2 is the root).
    const fatStart = (off + 32) * 512;
    const entry3 = fatStart + 3 * 4;
    expect(readAt(path, entry3, 4).readUInt32LE(0)).toBe(4);
    patch(path, entry3 + 8, Uint8Array.of(0xff, 0xff, 0xff, 0x0f)); // cluster 5: end of chain
    const copy2 = fatStart + readAt(path, off * 512 + 36, 4).readUInt32LE(0) * 512; // BPB_FATSz32
    patch(path, copy2 + 3 * 4 + 8, Uint8Array.of(0xff, 0xff, 0xff, 0x0f));
    expect(fsck(path, off).output).toMatch(/cluster chain|File size/i);
    const r = await check({ target: path });
    expect(r.ok).toBe(false);
    expect(ids(r, 'error')).toContain('firmware-chain-truncated');
    expect(r.files?.firmware?.clusters).toBe(3);
    expect(ids(r)).not.toContain('fat-copies-differ');
  });

  it('FAT copies that disagree on the firmware chain: fat-copies-differ warning (fsck.fat agrees)', async () => {
    const path = img('fatdiffer');
    const off = fatCard(path, 1 * GiB, ['-F', '32', '-s', '8']);
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    const fatSize = readAt(path, off * 512 + 36, 4).readUInt32LE(0);
    const second = (off + 32 + fatSize) * 512;
    patch(path, second + 3 * 4 + 8, Uint8Array.of(0xff, 0xff, 0xff, 0x0f)); // only the second copy
    expect(fsck(path, off).output).toMatch(/FATs differ/i);
    const r = await check({ target: path });
    expect(ids(r, 'warning')).toContain('fat-copies-differ');
    expect(r.ok).toBe(true);
  });

  it('an orphaned long name left by a bootloader 8.3 rename: lfn-orphaned warning (fsck.fat agrees)', async () => {
    const path = img('orphan');
    const off = fatCard(path, 1 * GiB, ['-F', '32']);
    mcopy(path, off, FIRMWARE, 'Firmware.bin'); // mixed case: mtools writes an LFN entry
    // What SKR Pro bootloaders do: rename the 8.3 entry only.
    const hits = findBytes(path, Buffer.from('FIRMWAREBIN'), off * 512, off * 512 + 8 * MiB);
    expect(hits.length).toBe(1);
    patch(path, hits[0]!, Buffer.from('FIRMWARECUR'));
    expect(fsck(path, off).output).toMatch(/wrong checksum for long file name|orphan/i);
    const r = await check({ target: path, board: 'btt-skr-pro' });
    expect(ids(r, 'warning')).toContain('lfn-orphaned');
    expect(ids(r, 'error')).toEqual(['firmware-missing']);
    expect(ids(r, 'info')).toContain('firmware-previously-flashed');
  });

  it('deleted file whose long name was left: lfn-deleted-entry-left', async () => {
    const { path, off } = goodFat32('lfnleft', 1 * GiB);
    mcopy(path, off, FIRMWARE, 'Some Notes.bin');
    const hits = findBytes(path, Buffer.from('SOMENO~1BIN'), off * 512, off * 512 + 8 * MiB);
    expect(hits.length).toBe(1);
    patch(path, hits[0]!, Uint8Array.of(0xe5));
    const r = await check({ target: path });
    expect(ids(r, 'warning')).toContain('lfn-deleted-entry-left');
  });

  it('hidden, read-only and empty firmware files', async () => {
    const { path, off } = goodFat32('attrs', 1 * GiB);
    mattrib(path, off, ['+h', '+r'], 'firmware.bin');
    const r = await check({ target: path });
    expect(r.findings.find((f) => f.id === 'firmware-attributes')?.message).toMatch(/read-only, hidden/);
    const p2 = img('empty');
    const o2 = fatCard(p2, 1 * GiB, ['-F', '32']);
    mcopy(p2, o2, localFile(dir, 'zero.bin', ''), 'firmware.bin');
    const e = await check({ target: p2 });
    expect(ids(e, 'error')).toEqual(['firmware-empty']);
  });

  it('case matters on a case-sensitive board (mks-robin-e3)', async () => {
    const path = img('case');
    const off = fatCard(path, 1 * GiB, ['-F', '32']);
    mcopy(path, off, FIRMWARE, 'ROBIN_E3.BIN');
    const r = await check({ target: path, board: 'mks-robin-e3' });
    expect(ids(r, 'error')).toContain('firmware-name-case');
    expect(r.findings.find((f) => f.id === 'firmware-name-case')!.fix?.[0]).toMatchObject({ kind: 'rename', to: '/Robin_e3.bin' });
  });

  it('any-name boards: several .bin candidates, folder rules', async () => {
    const path = img('anyname');
    const off = fatCard(path, 1 * GiB, ['-F', '32', '-s', '8']);
    mcopy(path, off, FIRMWARE, 'fw1.bin');
    mcopy(path, off, FIRMWARE, 'fw2.bin');
    const r = await check({ target: path, board: 'creality-v4.2.2' });
    expect(ids(r, 'warning')).toContain('several-firmware-candidates');
    expect(ids(r, 'info')).toContain('unique-name-required');
    const s1 = await check({ target: path, board: 'creality-ender3-s1-f401' });
    expect(ids(s1, 'error')).toContain('folder-missing');
    mmd(path, off, 'STM32F4_UPDATE');
    mcopy(path, off, FIRMWARE, 'STM32F4_UPDATE/fw3.bin');
    const s2 = await check({ target: path, board: 'creality-ender3-s1-f401' });
    expect(s2.files?.firmware?.path).toBe('/STM32F4_UPDATE/fw3.bin');
    expect(ids(s2, 'error').filter((i) => !i.startsWith('image-'))).toEqual([]);
  });

  it('--firmware: a different file is firmware-differs', async () => {
    const { path } = goodFat32('differs', 1 * GiB);
    const other = Buffer.from(fwBytes);
    other[1000] ^= 0xff;
    const r = await check({ target: path, firmware: localFile(dir, 'other.bin', other) });
    expect(ids(r, 'error')).toEqual(['firmware-differs']);
  });

  it('partition type byte that does not match, volume marked dirty', async () => {
    const path = img('typebyte');
    const off = fatCard(path, 1 * GiB, ['-F', '32'], '83');
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    // Windows' dirty bit in BS_Reserved1 of the FAT32 boot sector (offset 65).
    patch(path, off * 512 + 65, Uint8Array.of(1));
    const r = await check({ target: path });
    expect(ids(r, 'warning')).toEqual(expect.arrayContaining(['partition-type-mismatch', 'volume-dirty', 'backup-boot-sector-mismatch']));
    expect(r.ok).toBe(true);
    // The hint's sfdisk command is the fix.
    const cmd = /`(sfdisk --part-type [^`]+)`/.exec(r.findings.find((f) => f.id === 'partition-type-mismatch')!.hint)![1]!.split(' ');
    run(cmd[0]!, cmd.slice(1));
    expect(ids(await check({ target: path }))).not.toContain('partition-type-mismatch');
  });

  it('the findings are sorted errors first and every id is kebab-case', async () => {
    const path = img('sorted');
    const off = fatCard(path, 1 * GiB, ['-F', '32'], '83');
    mcopy(path, off, localFile(dir, 'ad2.bin', Buffer.alloc(4096, 2)), '._firmware.bin');
    const r = await check({ target: path });
    const sev = r.findings.map((f) => f.severity);
    expect(sev).toEqual([...sev].sort((a, b) => ['error', 'warning', 'info'].indexOf(a) - ['error', 'warning', 'info'].indexOf(b)));
    for (const f of r.findings) {
      expect(f.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(typeof f.message).toBe('string');
      expect(typeof f.hint).toBe('string');
    }
    writeFileSync(join(dir, 'unused'), '');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { truncateSync as truncateTo, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, type CheckResult } from '../../src/flows/check.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { lfnChecksum } from '../../src/fat/inspect/index.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { FIRMWARE, GiB, MiB, blank, fatCard, findBytes, fsck, listing, mcopy, mkfsFat, patch, readAt, run, sfdisk } from './cards.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('fwcard-checkmore-');
});
afterAll(() => removeDir(dir));

const ids = (r: CheckResult, sev?: string): string[] => r.findings.filter((f) => !sev || f.severity === sev).map((f) => f.id);
const img = (name: string): string => join(dir, `${name}.img`);

describe('check: more partition, volume and file cases', () => {
  it('hybrid MBR: FAT in the first slot is read (warning); protective entry first is GPT (error)', async () => {
    const path = blank(img('hybrid'), 1 * GiB);
    run('sgdisk', ['-n', '1:2048:+512M', '-t', '1:0700', path]);
    mkfsFat(path, ['-F', '32'], 2048, 512 * 2048);
    mcopy(path, 2048, FIRMWARE, 'firmware.bin');
    run('sgdisk', ['-h', '1:EE', path]); // hybrid: partition 1 in MBR slot 1, 0xEE after it
    const r = await check({ target: path });
    expect(r.card.hybridMbr).toBe(true);
    expect(ids(r, 'warning')).toContain('hybrid-mbr');
    expect(r.ok).toBe(true);
    const path2 = blank(img('hybrid2'), 1 * GiB);
    run('sgdisk', ['-n', '1:2048:+512M', '-t', '1:0700', path2]);
    mkfsFat(path2, ['-F', '32'], 2048, 512 * 2048);
    run('sgdisk', ['-h', '1', path2]); // 0xEE first
    const r2 = await check({ target: path2 });
    expect(ids(r2, 'error')).toEqual(['gpt-partition-table']);
  });

  it('FAT first and another partition after it: several-partitions warning', async () => {
    const path = blank(img('several'), 1 * GiB);
    sfdisk(path, 'label: dos\nstart=8192, size=1048576, type=c\nstart=1056768, type=83\n');
    mkfsFat(path, ['-F', '32'], 8192, 1048576);
    mcopy(path, 8192, FIRMWARE, 'firmware.bin');
    const r = await check({ target: path });
    expect(ids(r, 'warning')).toEqual(['several-partitions']);
    expect(r.ok).toBe(true);
  });

  it('a FAT volume with 4096-byte logical sectors (mkfs.fat -S 4096): fat-sector-size', async () => {
    const path = blank(img('s4096'), 1 * GiB);
    sfdisk(path, 'label: dos\nstart=8192, type=c\n');
    // mkfs.fat counts --offset in its own (4096-byte) sectors: 1024 × 4096 = sector 8192.
    mkfsFat(path, ['-F', '32', '-S', '4096'], 1024, 1 * GiB / 512 - 8192);
    const r = await check({ target: path });
    expect(ids(r, 'error')).toEqual(['fat-sector-size']);
  });

  it('FAT12 on the generic view is a warning; the boot sector type string is checked against the cluster count', async () => {
    const path = img('fat12');
    const off = fatCard(path, 16 * MiB, ['-F', '12'], '1', 2048);
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    const r = await check({ target: path });
    expect(r.card.volume?.fs).toBe('FAT12');
    expect(r.findings.find((f) => f.id === 'fat-type-unsupported')?.severity).toBe('warning');
    const btt = await check({ target: path, board: 'btt-octopus-f446-v1' });
    expect(ids(btt)).not.toContain('fat-type-unsupported');
    // Claim FAT16 in BS_FilSysType (offset 54): old FatFs releases trust that string.
    patch(path, off * 512 + 54, Buffer.from('FAT16   '));
    const lied = await check({ target: path });
    expect(ids(lied, 'warning')).toContain('fat-type-label-mismatch');
    expect(lied.card.volume?.fs).toBe('FAT12');
    expect(ids(lied)).not.toContain('fat-signature-missing');
    patch(path, off * 512 + 54, Buffer.from('        '));
    const blankType = await check({ target: path });
    expect(ids(blankType, 'warning')).toContain('fat-signature-missing');
    expect(blankType.card.volume?.fs).toBe('FAT12');
  });

  it('an MKS board given a plain image: firmware-not-converted', async () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, klipper: true, size: 40 * 1024, seed: 3 });
    const local = join(dir, 'plain.bin');
    writeFileSync(local, fw.bytes);
    const path = img('mks');
    const off = fatCard(path, 1 * GiB, ['-F', '32']);
    mcopy(path, off, local, 'Robin_e3.bin');
    const r = await check({ target: path, board: 'mks-robin-e3' });
    expect(ids(r, 'error')).toContain('firmware-not-converted');
    expect(r.findings.find((f) => f.id === 'firmware-not-converted')!.hint).toContain('--no-format');
  });

  it('firmware sharing clusters with another file: firmware-cross-linked (fsck.fat agrees)', async () => {
    const path = img('xlink');
    const off = fatCard(path, 1 * GiB, ['-F', '32', '-s', '8']);
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    mcopy(path, off, FIRMWARE, 'OTHER.BIN');
    // Point OTHER.BIN's first cluster (offset 26 of its 8.3 entry) at firmware.bin's.
    const [fwAt] = findBytes(path, Buffer.from('FIRMWAREBIN'), off * 512, off * 512 + 16 * MiB);
    const [otherAt] = findBytes(path, Buffer.from('OTHER   BIN'), off * 512, off * 512 + 16 * MiB);
    patch(path, otherAt! + 26, readAt(path, fwAt! + 26, 2));
    patch(path, otherAt! + 20, readAt(path, fwAt! + 20, 2));
    expect(fsck(path, off).output).toMatch(/cross-linked|share/i);
    const r = await check({ target: path });
    expect(ids(r, 'error')).toContain('firmware-cross-linked');
  });

  it('firmware in the root on a board that reads a folder: firmware-wrong-folder', async () => {
    const path = img('folder');
    const off = fatCard(path, 1 * GiB, ['-F', '32', '-s', '8']);
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    const r = await check({ target: path, board: 'creality-ender2-pro-hc32' });
    expect(ids(r, 'error')).toEqual(['firmware-wrong-folder']);
  });

  it('a huge .bin on an any-name board: firmware-too-large, and it is not read', async () => {
    const path = img('huge');
    const off = fatCard(path, 1 * GiB, ['-F', '32', '-s', '8']);
    const big = join(dir, 'video.bin');
    writeFileSync(big, Buffer.alloc(48 * MiB, 0x33));
    mcopy(path, off, big, 'video.bin');
    const r = await check({ target: path, board: 'creality-v4.2.2' });
    expect(ids(r, 'error')).toEqual(['firmware-too-large']);
    expect(r.bytesRead).toBeLessThan(256 * 1024);
  });

  it('SD alignment is info only; a card over the board\'s size limit is a warning', async () => {
    const path = img('unaligned');
    const off = fatCard(path, 4 * GiB, ['-F', '32'], 'c', 2048);
    mcopy(path, off, FIRMWARE, 'firmware.bin');
    const r = await check({ target: path });
    expect(r.findings.find((f) => f.id === 'not-sd-aligned')?.severity).toBe('info');
    const big = blank(img('big'), 64 * GiB);
    sfdisk(big, 'label: dos\nstart=8192, size=8388608, type=c\n');
    mkfsFat(big, ['-F', '32', '-s', '8'], 8192, 8388608);
    mcopy(big, 8192, FIRMWARE, 'fw1.bin');
    const c = await check({ target: big, board: 'creality-v4.2.2' });
    expect(c.card.kind).toBe('SDXC');
    expect(c.findings.find((f) => f.id === 'card-too-large')?.severity).toBe('warning');
    expect(c.findings.find((f) => f.id === 'card-too-large')?.hint).toContain('--partition-size 8G');
  });

  it('long names: not 8.3 on an any-name board (warning); only the long name matches on a board without LFN (error)', async () => {
    const path = img('long');
    const off = fatCard(path, 1 * GiB, ['-F', '32', '-s', '8']);
    mcopy(path, off, FIRMWARE, 'firmware-20211123-072221.bin');
    const r = await check({ target: path, board: 'sovol-sv06' });
    expect(r.findings.find((f) => f.id === 'firmware-name-not-8-3')?.severity).toBe('warning');

    // "Firmware.bin" gets an LFN entry; give its 8.3 entry a generated name (as an OS does when
    // FIRMWARE.BIN is taken) and re-sum the LFN parts, so fsck.fat sees a valid entry.
    const p2 = img('longonly');
    const o2 = fatCard(p2, 1 * GiB, ['-F', '32', '-s', '8']);
    mcopy(p2, o2, FIRMWARE, 'Firmware.bin');
    const [at] = findBytes(p2, Buffer.from('FIRMWAREBIN'), o2 * 512, o2 * 512 + 16 * MiB);
    const name = Buffer.from('FIRMWA~1BIN');
    patch(p2, at!, name);
    const sum = lfnChecksum(name);
    for (let slot = at! - 32; readAt(p2, slot + 11, 1)[0] === 0x0f; slot -= 32) patch(p2, slot + 13, Uint8Array.of(sum));
    expect(fsck(p2, o2).status).toBe(0);
    const lpc = await check({ target: p2, board: 'generic-lpc1768' });
    expect(ids(lpc, 'error')).toContain('firmware-name-long-only');
    const octo = await check({ target: p2, board: 'btt-octopus-f446-v1' });
    expect(ids(octo)).not.toContain('firmware-name-long-only');
    const fixed = await check({ target: p2, board: 'generic-lpc1768', fix: true });
    expect(fixed.fix?.applied.map((a) => [a.id, a.done])).toEqual([['firmware-name-long-only', true]]);
    expect(ids(fixed)).not.toContain('firmware-name-long-only');
    expect(listing(p2, o2)).toMatch(/^firmware\s+bin\s/m);
    expect(fsck(p2, o2).status).toBe(0);
  });

  it('blank, garbage, and a partition that runs past the end of the card', async () => {
    const b = blank(img('blank'), 256 * MiB);
    expect(ids(await check({ target: b }), 'error')).toEqual(['filesystem-missing']);
    const g = blank(img('garbage'), 256 * MiB);
    patch(g, 0, Buffer.alloc(4096, 0x5a));
    expect(ids(await check({ target: g }), 'error')).toEqual(['filesystem-unrecognized']);
    // A table made for 1 GiB on what turns out to be 512 MiB (a fake-capacity card).
    const f = img('fake');
    const off = fatCard(f, 1 * GiB, ['-F', '32']);
    mcopy(f, off, FIRMWARE, 'firmware.bin');
    truncateTo(f, 512 * MiB);
    expect(ids(await check({ target: f }), 'error')).toEqual(['partition-outside-card']);
  });
});

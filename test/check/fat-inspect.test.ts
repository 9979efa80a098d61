import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openImageFile } from '../../src/disk/image-file.js';
import { FatInspector, lfnChecksum, isShortName, clusterRuns as ourRuns, parseBootSector } from '../../src/fat/inspect/index.js';
import { nearMiss } from '../../src/flows/check/names.js';
import { clusterRuns as mshowfatRuns, removeDir, tempDir } from '../helpers/judges.js';
import { FIRMWARE, MiB, blank, fatCard, localFile, mcopy, mkfsFat, readAt } from './cards.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('fwcard-fatinspect-');
});
afterAll(() => removeDir(dir));

async function open(img: string, start: number, sectors: number): Promise<{ insp: FatInspector; close: () => Promise<void> }> {
  const dev = openImageFile(img, { readOnly: true });
  const insp = await FatInspector.open(dev, start, sectors);
  if (!(insp instanceof FatInspector)) throw new Error(`not FAT: ${JSON.stringify(insp)}`);
  return { insp, close: () => dev.close() };
}

describe('raw FAT reader against mkfs.fat and mtools', () => {
  for (const [fat, size, extra] of [
    ['12', 2 * MiB, ['-s', '1']],
    ['16', 64 * MiB, ['-s', '2']],
    ['32', 128 * MiB, ['-s', '1']],
  ] as const) {
    it(`FAT${fat}: geometry, every root name, and chains equal to mshowfat's`, async () => {
      const img = join(dir, `fat${fat}.img`);
      blank(img, size);
      mkfsFat(img, ['-F', fat, ...extra]);
      // A filler first so that the firmware's FAT12 entries straddle a FAT sector boundary
      // (entry 341 starts at byte 511), and enough names that a FAT32 root spans clusters.
      mcopy(img, 0, localFile(dir, 'filler', Buffer.alloc(140 * 1024, 9)), 'filler.dat');
      const names: string[] = [];
      for (let i = 0; i < 40; i++) {
        const n = i % 2 ? `Long File Name Number ${i}.txt` : `F${i}.TXT`;
        names.push(n);
        mcopy(img, 0, localFile(dir, 'small', `file ${i}\n`), n);
      }
      mcopy(img, 0, FIRMWARE, 'firmware.bin');
      const { insp, close } = await open(img, 0, size / 512);
      try {
        const bs = parseBootSector(readAt(img, 0, 512));
        expect(bs.kind).toBe('fat');
        expect(insp.boot.fatType).toBe(`FAT${fat}`);
        expect(insp.boot.problems).toEqual([]);
        const root = await insp.readDirectory(0, '/');
        expect(root.orphans).toEqual([]);
        const got = root.entries.filter((e) => !e.isVolumeLabel).map((e) => e.name);
        expect(got).toEqual(['filler.dat', ...names, 'firmware.bin']);
        if (fat === '32') expect(root.clusters.length).toBeGreaterThan(1);
        const fwEntry = root.entries.find((e) => e.name === 'firmware.bin')!;
        const file = await insp.readFile(fwEntry);
        expect(Buffer.from(file.data).equals(readFileSync(FIRMWARE))).toBe(true);
        expect(file.chain.end).toBe('eoc');
        expect(ourRuns(file.chain.clusters)).toEqual(mshowfatRuns(img, 0, 'firmware.bin'));
        if (fat === '12') expect(file.chain.clusters).toContain(341);
        const facts = await insp.facts();
        if (fat !== '12') expect(facts.flags).toEqual({ clean: true, ioError: false });
        if (fat === '32') {
          expect(facts.fsInfo?.problems).toEqual([]);
          expect(facts.backupBoot?.matches).toBe(true);
        }
      } finally {
        await close();
      }
    });
  }

  it('LFN checksums agree with the entries mtools writes', async () => {
    const img = join(dir, 'lfn.img');
    const off = fatCard(img, 64 * MiB, ['-F', '16'], '6', 128);
    for (const n of ['Robin_nano35.bin', 'ZNP_ROBIN_NANO.bin', 'a b c d e f g h i j k l m n o p.bin', 'ünïcødé firmware name.bin']) mcopy(img, off, FIRMWARE, n);
    const { insp, close } = await open(img, off, 64 * MiB / 512 - off);
    try {
      const root = await insp.readDirectory(0, '/');
      expect(root.orphans).toEqual([]);
      expect(root.entries.filter((e) => !e.isVolumeLabel).map((e) => e.longName)).toEqual(['Robin_nano35.bin', 'ZNP_ROBIN_NANO.bin', 'a b c d e f g h i j k l m n o p.bin', 'ünïcødé firmware name.bin']);
      for (const e of root.entries) if (e.longName) expect(e.shortName).toMatch(/~\d/);
    } finally {
      await close();
    }
    // No orphans above means every checksum mtools wrote equals ours; a changed 8.3 name changes it.
    expect(lfnChecksum(Buffer.from('FIRMWAREBIN'))).not.toBe(lfnChecksum(Buffer.from('FIRMWARECUR')));
  });

  it('8.3 names and near misses', () => {
    expect(isShortName('firmware.bin')).toBe(true);
    expect(isShortName('FIRMWARE.CUR')).toBe(true);
    expect(isShortName('Robin_nano35.bin')).toBe(false);
    expect(isShortName('fw-1.bin')).toBe(true);
    expect(isShortName('a b.bin')).toBe(false);
    expect(nearMiss('firmware(1).bin', 'firmware.bin')).toBe('a copy number');
    expect(nearMiss('firmware (2).bin', 'firmware.bin')).toBe('a copy number');
    expect(nearMiss('firmware.bin.bin', 'firmware.bin')).toBe('a doubled extension');
    expect(nearMiss('FIRMWARE.BIN ', 'firmware.bin')).toBe('stray spaces or dots');
    expect(nearMiss('frimware.bin', 'firmware.bin')).toBe('a typo');
    expect(nearMiss('._firmware.bin', 'firmware.bin')).toBeNull();
    expect(nearMiss('notes.txt', 'firmware.bin')).toBeNull();
    expect(nearMiss('FIRMWARE.CUR', 'firmware.bin')).toBeNull();
  });
});

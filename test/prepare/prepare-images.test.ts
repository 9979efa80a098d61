import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { prepare } from '../../src/flows/prepare.js';
import { clusterRuns, fsckFat, mcopyOut, mdir, readRegion, removeDir, sfdiskJson, tempDir } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => removeDir(dir));

interface Case {
  name: string;
  size: number;
  fs?: 'auto' | 'fat16' | 'fat32';
  mbr?: boolean;
  partitionBytes?: number;
  expectFs: 'FAT16' | 'FAT32';
}

const cases: Case[] = [
  { name: '64 MiB FAT16', size: 64 * MiB, expectFs: 'FAT16' },
  { name: '1 GiB FAT16', size: 1 * GiB, expectFs: 'FAT16' },
  { name: '2 GiB FAT16', size: 2 * GiB, expectFs: 'FAT16' },
  { name: '1 GiB FAT16 superfloppy', size: 1 * GiB, mbr: false, expectFs: 'FAT16' },
  { name: '4 GiB FAT32', size: 4 * GiB, expectFs: 'FAT32' },
  { name: '32 GiB FAT32', size: 32 * GiB, expectFs: 'FAT32' },
  { name: '128 GiB FAT32 (SDXC, where Windows and the SD Formatter give exFAT)', size: 128 * GiB, expectFs: 'FAT32' },
  { name: '1 TiB FAT32 sparse', size: 1024 * GiB, expectFs: 'FAT32' },
  { name: '4 GiB FAT32 superfloppy', size: 4 * GiB, mbr: false, expectFs: 'FAT32' },
  { name: '4 GiB FAT32 volume on a 128 GiB card', size: 128 * GiB, partitionBytes: 4 * GiB, expectFs: 'FAT32' },
  { name: '2 GiB FAT16 volume on a 32 GiB card', size: 32 * GiB, fs: 'fat16', partitionBytes: 2 * GiB, expectFs: 'FAT16' },
  { name: '2 GiB forced FAT32', size: 2 * GiB, fs: 'fat32', expectFs: 'FAT32' },
];

describe('prepare on image files, judged by fsck.fat, mtools and sfdisk', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const img = join(dir, `${c.name.replace(/\W+/g, '_')}.img`);
      const result = await prepare({
        target: img,
        size: c.size,
        board: 'btt-octopus-f446-v1',
        firmware: FIRMWARE,
        fs: c.fs ?? 'auto',
        mbr: c.mbr ?? true,
        ...(c.partitionBytes ? { partitionBytes: c.partitionBytes } : {}),
        label: 'FWCARD',
        confirm: async () => true,
      });
      expect(result.verified).toBe(true);
      expect(result.fs).toBe(c.expectFs);
      const layout = result.layout!;
      const offset = result.partitionStart * 512;

      // Partition table as sfdisk reads it.
      const table = sfdiskJson(img);
      if (c.mbr === false) {
        expect(result.partitionStart).toBe(0);
        expect(table?.partitions.length ?? 0).toBe(0);
      } else {
        expect(table?.label).toBe('dos');
        expect(table!.partitions).toHaveLength(1);
        const p = table!.partitions[0]!;
        expect(p.start).toBe(result.partitionStart);
        expect(p.size).toBe(result.partitionSectors);
        expect(parseInt(p.type, 16)).toBe(layout.partitionType);
        expect(c.expectFs === 'FAT32' ? [0x0b, 0x0c] : [0x04, 0x06, 0x0e]).toContain(parseInt(p.type, 16));
        if (c.partitionBytes) expect(p.size * 512).toBeLessThanOrEqual(c.partitionBytes);
        // The whole card, less a few clusters where a FAT16 volume is trimmed clear of 65525 (1/2 GiB).
        else expect(c.size / 512 - (p.start + p.size)).toBeLessThanOrEqual(c.expectFs === 'FAT16' ? 2048 : 0);
      }

      // SD rules: the data area (cluster 2) starts on a boundary unit; FAT32 partitions start on one.
      expect(layout.dataStartAbsolute % layout.boundaryUnit).toBe(0);
      if (c.mbr !== false && c.expectFs === 'FAT32') expect(result.partitionStart % layout.boundaryUnit).toBe(0);
      const boot = readRegion(img, offset, 512);
      expect(boot.readUInt16LE(11)).toBe(512);
      expect(boot[13]! * 512).toBe(result.clusterSize);
      expect(boot.readUInt32LE(28)).toBe(result.partitionStart); // hidden sectors
      const rsv = boot.readUInt16LE(14);
      const fatSize = c.expectFs === 'FAT32' ? boot.readUInt32LE(36) : boot.readUInt16LE(22);
      const rootSectors = (boot.readUInt16LE(17) * 32) / 512;
      expect((result.partitionStart + rsv + 2 * fatSize + rootSectors) % layout.boundaryUnit).toBe(0);

      // fsck.fat finds nothing to fix.
      const fsck = fsckFat(img, offset, c.mbr === false ? undefined : result.partitionSectors * 512);
      expect(fsck.output).not.toMatch(/orphan|wrong|invalid|differ/i);
      expect(fsck.status, fsck.output).toBe(0);
      expect(fsck.output).toContain(c.expectFs === 'FAT32' ? '32 bit entries' : '16 bit entries');

      // mtools reads the firmware back byte-identical under the board's name, as a plain 8.3 entry.
      const back = mcopyOut(img, offset, '/FIRMWARE.BIN', dir);
      expect(back.equals(readFileSync(FIRMWARE))).toBe(true);
      const listing = mdir(img, offset);
      expect(listing).toMatch(/firmware\s+bin\s+45000/i);
      expect(listing).not.toMatch(/firmware\.bin\s*$/m); // no long-name column: no LFN entry was written

      // Written in one pass on a fresh volume: one contiguous run of clusters from cluster 3.
      const runs = clusterRuns(img, offset, '/FIRMWARE.BIN');
      expect(runs).toHaveLength(1);
      expect(runs[0]![0]).toBe(c.expectFs === 'FAT32' ? 3 : 2);

      // The image stays sparse: fwcard writes only the structures a format needs.
      const allocated = statSync(img).blocks * 512;
      expect(allocated).toBeLessThan(2 * fatSize * 512 + 16 * MiB);
    });
  }
});

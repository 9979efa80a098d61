import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadCatalog } from '../../src/boards/catalog.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { checkCard } from '../../src/flows/check.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { FIRMWARE, GiB, fatCard, localFile, mcopy, mmd } from './cards.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('fwcard-checkcheap-');
});
afterAll(() => removeDir(dir));

const KiB = 1024;

describe('check reads only what it needs', () => {
  it('a 128 GiB FAT32 card: a few hundred KiB, not its 32 MiB of FAT', async () => {
    const img = join(dir, 'big.img');
    const off = fatCard(img, 128 * GiB, ['-F', '32', '-s', '64']);
    mcopy(img, off, FIRMWARE, 'firmware.bin');
    mcopy(img, off, FIRMWARE, 'FIRMWARE.CUR');
    mcopy(img, off, localFile(dir, 'big.gcode', Buffer.alloc(3 * 1024 * 1024, 0x47)), 'benchy.gcode');
    mmd(img, off, 'gcodes');
    mcopy(img, off, localFile(dir, 'ad', Buffer.alloc(4096, 1)), '._firmware.bin');
    const dev = openImageFile(img, { readOnly: true });
    try {
      const board = loadCatalog({ noUserConfig: true }).get('btt-octopus-f446-v1');
      const r = await checkCard(dev, { board });
      expect(r.ok).toBe(true);
      expect(r.card.kind).toBe('SDXC');
      expect(r.card.volume?.sectorsPerFat).toBeGreaterThanOrEqual(32 * 1024); // 16 MiB per FAT
      expect(r.files?.firmware?.size).toBe(45000);
      // The firmware itself is 44 KiB; everything else (MBR, boot sectors, FSInfo, one FAT
      // sector per chain, the root directory's first cluster) must stay small.
      expect(dev.counters.bytesRead).toBe(r.bytesRead);
      expect(dev.counters.bytesRead).toBeLessThan(384 * KiB);
      expect(dev.counters.readOps).toBeLessThan(64);
    } finally {
      await dev.close();
    }
  });
});

import { describe, expect, it, afterAll } from 'vitest';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachLoop, detachLoop, fsckFat, mcopyOut, removeDir, runCli, sfdiskJson, tempDir } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const dir = tempDir();
afterAll(() => removeDir(dir));

describe('prepare on a real block device (a loop device this test attaches and detaches)', () => {
  it('formats /dev/loopN, writes and verifies the firmware, and fsck.fat/mtools agree', () => {
    const backing = join(dir, 'card.img');
    writeFileSync(backing, '');
    truncateSync(backing, 4 * 1024 ** 3); // a "4 GB" SDHC card
    const loop = attachLoop(backing, 0, undefined, false);
    let doc: any;
    try {
      const res = runCli(['prepare', loop, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
      expect(res.status, res.stderr).toBe(0);
      doc = JSON.parse(res.stdout);
      expect(doc.target).toBe(loop);
      expect(doc.verified).toBe(true);
      expect(doc.fs).toBe('FAT32');
      expect(doc.partitionStart).toBe(8192);
      expect(doc.firmwarePath).toBe('/firmware.bin');
    } finally {
      detachLoop(loop);
    }
    // Judged on the backing file after the device is gone: everything was flushed.
    const table = sfdiskJson(backing)!;
    expect(table.partitions[0]!.start).toBe(8192);
    const offset = doc.partitionStart * 512;
    const fsck = fsckFat(backing, offset, doc.partitionSectors * 512);
    expect(fsck.status, fsck.output).toBe(0);
    expect(mcopyOut(backing, offset, '/FIRMWARE.BIN', dir).equals(readFileSync(FIRMWARE))).toBe(true);
  });
});

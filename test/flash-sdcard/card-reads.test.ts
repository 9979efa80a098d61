/**
 * What flash-sdcard reads of the card before it writes: over a Klipper MCU every sector is a
 * round trip plus 512 bytes clocked each way, so the partition's boot sector is read once (by
 * the probe, which hands it to the mount) and the probe reads only that sector of a FAT volume.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { traceTo } from '../../src/progress.js';
import { build, makeCard, planWith, START, startRig, type Rig } from './helpers.js';

let dir: string | undefined;
let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The sectors each CMD17/CMD18 of the SPI driver's trace asked for, in order. */
function sectorReads(lines: string[]): Array<{ sector: number; blocks: number }> {
  return lines.flatMap((l) => {
    const m = /CMD1[78] \(READ_\w+\) arg 0x[0-9a-f]+ \(sector (\d+), (\d+) block\(s\)\)/.exec(l);
    return m ? [{ sector: Number(m[1]), blocks: Number(m[2]) }] : [];
  });
}

describe('flash-sdcard: reads before the upload', () => {
  for (const fat of [16, 32] as const) {
    it(`FAT${fat}: the boot sector is read once, alone; the mount starts from the probe's copy`, async () => {
      dir = mkdtempSync(join(tmpdir(), 'fwcard-card-reads-'));
      const image = join(dir, 'card.img');
      makeCard(image, { sizeMiB: fat === 16 ? 64 : 96, fat });
      rig = startRig('btt-skr-v1.3', image);
      const b = build(dir, 'btt-skr-v1.3', 'v0.13.0-reads');
      const lines: string[] = [];
      const plan = await planWith(rig, { board: 'btt-skr-v1.3', firmware: b.bin, dictionary: b.dict, trace: traceTo((ns, m) => ns.startsWith('sdcard') && lines.push(m)) });
      expect(plan.card.capacityBytes).toBeGreaterThan(0);
      const reads = sectorReads(lines);
      // The MBR, then the partition's boot sector as one single-block read, and never again.
      expect(reads[0]).toEqual({ sector: 0, blocks: 1 });
      const boot = reads.filter((r) => r.sector <= START && START < r.sector + r.blocks);
      expect(boot).toEqual([{ sector: START, blocks: 1 }]);
      // FatFs still read what the mount needs beyond it (a FAT or the root directory).
      expect(reads.some((r) => r.sector > START)).toBe(true);
    });
  }
});

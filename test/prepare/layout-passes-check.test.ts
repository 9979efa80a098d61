import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { openImageFile } from '../../src/disk/image-file.js';
import { writeFatVolume } from '../../src/fat/format.js';
import { FAT_TYPE_MARGIN, planLayout, type Layout } from '../../src/fat/layout.js';
import { checkCard } from '../../src/flows/check.js';
import { fsckFat, removeDir, tempDir } from '../helpers/judges.js';

// Issue 14: prepare and check must agree. Every volume prepare plans and writes passes fwcard's
// own check with no warning and no error about the card or the volume (the files are not
// judged here: an empty fresh volume has no firmware yet). The formatter writes only metadata
// onto a sparse image, so even a 256 GiB card costs a few sectors.
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const dir = tempDir('fwcard-agree-');
afterAll(() => removeDir(dir));

/** Findings about the files on the volume (there are none yet): not the planner's business. */
const FILE_FINDINGS = /^(firmware-|no-firmware|folder-|file-|name-)/;

async function formatAndCheck(bytes: number, fs: 'auto' | 'fat16' | 'fat32', judge = false): Promise<{ layout: Layout; problems: string[] } | null> {
  let layout: Layout;
  try {
    layout = planLayout({ deviceSectors: Math.floor(bytes / 512), fs });
  } catch (e) {
    // A request prepare refuses (FAT16 on a 64 GiB card, FAT32 on 16 MiB) writes nothing.
    expect((e as { code?: string }).code).toMatch(/fat16-too-large|impossible-layout/);
    return null;
  }
  const img = join(dir, `c-${bytes}-${fs}.img`);
  rmSync(img, { force: true });
  const dev = openImageFile(img, { size: Math.floor(bytes / 512) * 512 });
  try {
    writeFatVolume(dev, layout, { knownZero: true, label: 'FWCARD', volumeId: 0x1234abcd });
    const report = await checkCard(dev);
    const problems = report.findings.filter((f) => f.severity !== 'info' && !FILE_FINDINGS.test(f.id)).map((f) => `${f.severity} ${f.id}: ${f.message}`);
    if (judge) {
      const r = fsckFat(img, layout.partitionStart * 512, layout.partitionSectors * 512);
      if (!r.ok) problems.push(`fsck.fat: ${r.output}`);
    }
    return { layout, problems };
  } finally {
    await dev.close();
    rmSync(img, { force: true });
  }
}

const POWERS = Array.from({ length: 16 }, (_, i) => 8 * MiB * 2 ** i); // 8 MiB … 256 GiB
// What cards really hold: a "2 GB" SDSC, "4/8/16/32 GB" SDHC (C_SIZE × 512 KiB), a "64 GB" SDXC.
const SD_TYPICAL = [1_977_614_336, 3_965_190_144, 7_948_206_080, 15_931_539_456, 31_914_983_424, 63_864_569_856, 127_865_454_592];

describe('every volume prepare writes passes its own check (issue 14)', () => {
  it('exact powers of two and SD-typical sizes, each with auto, fat16 and fat32', async () => {
    for (const bytes of [...POWERS, ...SD_TYPICAL]) {
      for (const fs of ['auto', 'fat16', 'fat32'] as const) {
        const r = await formatAndCheck(bytes, fs);
        if (r) expect(r.problems, `${bytes} bytes, --fs ${fs}: ${r.layout.fsType} ${r.layout.clusterCount} clusters`).toEqual([]);
      }
    }
  }, 60_000);

  it('random card sizes from 8 MiB to 256 GiB', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 8 * MiB / 512, max: 256 * GiB / 512 }),
        fc.constantFrom<'auto' | 'fat16' | 'fat32'>('auto', 'fat16', 'fat32'),
        async (sectors, fs) => {
          const r = await formatAndCheck(sectors * 512, fs);
          if (r) expect(r.problems, `${sectors} sectors, --fs ${fs}`).toEqual([]);
        },
      ),
      { numRuns: 120 },
    );
  }, 60_000);

  it('sizes next to the FAT-type limits keep clear of them, judged by fsck.fat too', async () => {
    // 1 GiB and 2 GiB gave FAT16 volumes of 65512 / 65524 clusters before issue 14.
    for (const bytes of [1 * GiB, 2 * GiB, 2 * GiB - 4 * MiB, 2 * GiB + 8 * MiB, 64 * MiB, 32 * MiB, 8 * MiB, 4 * GiB]) {
      const r = (await formatAndCheck(bytes, 'auto', true))!;
      expect(r.problems, `${bytes} bytes`).toEqual([]);
      const c = r.layout.clusterCount;
      for (const limit of [4085, 65525]) expect(Math.abs(c - limit), `${bytes}: ${c} clusters`).toBeGreaterThanOrEqual(FAT_TYPE_MARGIN);
    }
  }, 60_000);
});

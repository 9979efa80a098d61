/** flash-sdcard's progress moves per SD block, not in FatFs's 16 KiB jumps (issue 16). */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { perBlockProgress } from '../../src/flows/flash-sdcard/block-progress.js';
import type { ProgressEvent } from '../../src/progress.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { build, flashWith, makeCard, startRig } from './helpers.js';

const dir = tempDir();
afterAll(() => removeDir(dir));

describe('per-block progress', () => {
  it('moves on with the card\'s block count between reports, never past the chunk in flight or the end', () => {
    vi.useFakeTimers();
    try {
      const card = { blocksMoved: 100 };
      const seen: ProgressEvent[] = [];
      const p = perBlockProgress(card, (e) => seen.push(e));
      p.listener({ phase: 'upload', label: 'up', bytes: 0, total: 40_000 });
      card.blocksMoved += 10;
      vi.advanceTimersByTime(100);
      expect(seen.at(-1)).toMatchObject({ phase: 'upload', label: 'up', bytes: 5120, total: 40_000 });
      card.blocksMoved += 100; // FAT sectors too: capped at the 16 KiB chunk FatFs has in hand
      vi.advanceTimersByTime(100);
      expect(seen.at(-1)!.bytes).toBe(16_384);
      const n = seen.length;
      vi.advanceTimersByTime(500); // nothing new moved: nothing new said
      expect(seen.length).toBe(n);
      p.listener({ phase: 'upload', label: 'up', bytes: 32_768, total: 40_000 });
      card.blocksMoved += 100;
      vi.advanceTimersByTime(100);
      expect(seen.at(-1)!.bytes).toBe(39_999); // the end is FatFs's to report
      p.stop();
      card.blocksMoved += 100;
      vi.advanceTimersByTime(1000);
      expect(seen.at(-1)!.bytes).toBe(39_999);
    } finally {
      vi.useRealTimers();
    }
  });

  it('an upload over the simulated MCU reports bytes between 16 KiB steps, in order', async () => {
    const img = join(dir, 'progress.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-progress', { size: 96_000 });
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC', latencyMs: 1 });
    const upload: number[] = [];
    try {
      const r = await flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict, onProgress: (e) => { if (e.phase === 'upload' && e.bytes !== undefined) upload.push(e.bytes); } });
      expect(r.uploaded).toBe(true);
    } finally {
      await rig.close();
    }
    expect(upload[0]).toBe(0);
    expect(upload.at(-1)).toBe(96_000);
    for (let i = 1; i < upload.length; i++) expect(upload[i]!).toBeGreaterThanOrEqual(upload[i - 1]!);
    expect(upload.filter((b) => b % 16_384 !== 0 && b !== 96_000).length).toBeGreaterThan(0);
  }, 120_000);
});

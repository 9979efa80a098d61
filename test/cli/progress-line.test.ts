/** The progress line (issue 16: flash-sdcard started at "0% … instant ETA 0.0s"). */
import { describe, expect, it } from 'vitest';
import { MIN_RATE_MS, progressLine } from '../../src/cli/progress-view.js';

describe('progressLine', () => {
  it('no rate and no ETA before bytes have moved for a while', () => {
    expect(progressLine({ label: 'uploading /firmware.bin', bytes: 0, total: 45_000, elapsedMs: 0 })).toBe('uploading /firmware.bin: 0% 0 B/43.9 KiB');
    expect(progressLine({ label: 'uploading /firmware.bin', bytes: 0, total: 45_000, elapsedMs: 3000 })).toBe('uploading /firmware.bin: 0% 0 B/43.9 KiB');
    const early = progressLine({ label: 'x', bytes: 16_384, total: 45_000, elapsedMs: MIN_RATE_MS - 1 });
    expect(early).not.toMatch(/instant|ETA|\/s/);
    expect(early).toBe('x: 36% 16.0 KiB/43.9 KiB');
  });

  it('rate and ETA once there is a rate; no ETA when done', () => {
    expect(progressLine({ label: 'x', bytes: 16_384, total: 45_056, elapsedMs: 2000 })).toBe('x: 36% 16.0 KiB/44.0 KiB 8.00 KiB/s ETA 3.5s');
    expect(progressLine({ label: 'x', bytes: 45_056, total: 45_056, elapsedMs: 2000 })).toBe('x: 100% 44.0 KiB/44.0 KiB 22.0 KiB/s');
    expect(progressLine({ label: 'x', bytes: 0, elapsedMs: 2000 })).toBe('x');
  });
});

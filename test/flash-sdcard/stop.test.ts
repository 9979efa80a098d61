import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCode } from '../../src/errors.js';
import type { ProgressEvent } from '../../src/progress.js';
import { fsckFat, mcopyOut, mdir, removeDir, tempDir } from '../helpers/judges.js';
import { START, build, flashWith, makeCard, startRig } from './helpers.js';

// Issue 14: a stop asked for (the CLI's first Ctrl-C aborts FlashSdcardOptions.signal) ends the
// run at the next safe point and says what the card holds; a re-run completes the update.
const dir = tempDir();
afterAll(() => removeDir(dir));
const OFF = START * 512;

/** Abort when the first progress event matching `when` arrives. */
function stopWhen(when: (e: ProgressEvent) => boolean) {
  const controller = new AbortController();
  return { signal: controller.signal, onProgress: (e: ProgressEvent) => (when(e) && !controller.signal.aborted ? controller.abort() : undefined) };
}

async function stopped(p: Promise<unknown>) {
  const e = await p.then(() => null, (err: unknown) => err);
  if (!hasCode(e, 'interrupted')) throw new Error(`expected the interrupted error, got ${String(e)}`);
  expect(e.exitCode).toBe(130);
  return e;
}

describe('flash-sdcard stops at the next safe point', () => {
  it('aborted before anything: nothing was written; then an abort mid-upload leaves FWCARD.TMP, the card passes fsck, a re-run completes', async () => {
    const img = join(dir, 'mid.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-stop', { size: 120_000 });
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    try {
      const early = stopWhen((e) => e.phase === 'connect');
      const a = await stopped(flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict, ...early }));
      expect(a.details).toMatchObject({ state: 'untouched' });
      expect(a.message).toMatch(/^stopped \(Ctrl-C\) .*: nothing was written to the card$/);
      const mid = stopWhen((e) => e.phase === 'upload' && (e.bytes ?? 0) > 0);
      const t0 = Date.now();
      const b = await stopped(flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict, ...mid }));
      expect(b.details).toMatchObject({ state: 'temporary', where: 'before reading /FWCARD.TMP' });
      expect(b.message).toContain('/FWCARD.TMP was left on the card; the firmware the board runs is unchanged');
      expect(b.hint).toMatch(/Run the same command again: it removes \/FWCARD\.TMP/);
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(rig.sim.boots.length).toBe(0);
    } finally {
      await rig.close();
    }
    expect(fsckFat(img, OFF).status, fsckFat(img, OFF).output).toBe(0);
    expect(mdir(img, OFF)).toMatch(/FWCARD\s+TMP/i);
    expect(mdir(img, OFF)).not.toMatch(/firmware\s+bin/i);
    const again = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    try {
      const r = await flashWith(again, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict });
      expect(r.version).toBe('v0.13.0-stop');
    } finally {
      await again.close();
    }
    expect(fsckFat(img, OFF).status).toBe(0);
    expect(mdir(img, OFF)).not.toMatch(/FWCARD\s+TMP/i);
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
  });

  it('aborted before the reset: the new firmware is on the card under its name; the board flashes it at its next reset', async () => {
    const img = join(dir, 'before-reset.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-pre');
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    try {
      const s = stopWhen((e) => e.phase === 'verify' && !!e.done);
      const e = await stopped(flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict, ...s }));
      expect(e.details).toMatchObject({ state: 'installed', where: 'before the reset' });
      expect(e.message).toContain('the new firmware is on the card as /firmware.bin; the board flashes it at its next reset or power-up');
      expect(rig.sim.boots.length).toBe(0);
    } finally {
      await rig.close();
    }
    expect(fsckFat(img, OFF).status).toBe(0);
    expect(mcopyOut(img, OFF, '/firmware.bin', dir).equals(Buffer.from(fw.bytes))).toBe(true);
  });

  it('aborted while the board is away after the reset: the wait ends at once and says the bootloader is flashing', async () => {
    const img = join(dir, 'reset.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-away');
    // The board stays away 20 s after the reset: the stop must not wait for it.
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC', bootMs: 20_000 });
    try {
      const controller = new AbortController();
      let t0 = 0;
      const onProgress = (e: ProgressEvent) => {
        if (e.phase === 'reset' && /resetting the MCU so the bootloader/.test(e.label) && !t0) {
          t0 = Date.now();
          setTimeout(() => controller.abort(), 1000);
        }
      };
      const e = await stopped(flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict, connectTimeoutMs: 60_000, reconnectTimeoutMs: 60_000, signal: controller.signal, onProgress }));
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(e.details).toMatchObject({ state: 'reset', where: 'while waiting for the board to come back after the reset' });
      expect(e.message).toContain('the board was reset to flash /firmware.bin from the card');
      expect(e.hint).toMatch(/-c added/);
    } finally {
      await rig.close();
    }
    expect(fsckFat(img, OFF).status).toBe(0);
  });
});

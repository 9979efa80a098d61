/**
 * A card reader with no card is a block device of 0 sectors (issue 16: it got "Re-create it with
 * `fwcard prepare`", even from prepare, and prepare called it read-only). A loop device over an
 * empty file is such a device.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRange } from '../../src/disk/range-check.js';
import { attachLoop, detachLoop, removeDir, runCli, tempDir } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const dir = tempDir();
afterAll(() => removeDir(dir));

describe('an empty card reader (0 sectors)', () => {
  it('check and prepare say there is no card, not "re-create it" or "read-only"', () => {
    const backing = join(dir, 'nothing.img');
    writeFileSync(backing, '');
    const loop = attachLoop(backing, 0, undefined, false);
    try {
      for (const args of [['check', loop], ['prepare', loop, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes'], ['prepare', loop, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--dry-run']]) {
        const r = runCli(args);
        expect(r.status, args.join(' ')).not.toBe(0);
        expect(r.stderr).toMatch(/reports 0 sectors: there is no card in the reader/);
        expect(r.stderr).toMatch(/Insert the microSD card/);
        expect(r.stderr).not.toMatch(/Re-create|read-only/);
      }
      const j = JSON.parse(runCli(['check', loop, '--json']).stdout);
      expect(j.error.code).toBe('no-card-in-reader');
    } finally {
      detachLoop(loop);
    }
  });

  it('a read past the end of a 0-sector device: no card, not a card to re-create', () => {
    expect(() => checkRange('/dev/sdz', 512, 0, 0, 512)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/0 sectors: there is no card in it/) }));
    expect(() => checkRange('/dev/sdz', 512, 8, 8, 512)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/Re-create it/) }));
  });
});

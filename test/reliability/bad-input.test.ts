import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain-JS campaign script (bench/faults.js) over the built dist/
import { badInput } from '../../bench/faults.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { expectClean, type CampaignCounts } from './campaign-expect.js';

// Campaign 5 of `npm run faults` in full (it is cheap): every command with inputs it must
// refuse — exit 1/2, a JSON error with code, message and hint, and nothing written.
const scratch = tempDir('fwcard-rel-bad-');
afterAll(() => removeDir(scratch));

describe('bad input matrix (campaign 5)', () => {
  it('prepare, check and flash-sdcard refuse bad input with a hint and write nothing', async () => {
    const c: CampaignCounts = await badInput({ scratch });
    expectClean(c, 28);
    expect(c.verified).toBe(0);
    for (const name of ['prepare: ELF instead of BIN', 'prepare: another fwcard holds the image', 'flash-sdcard: another fwcard holds the port', 'prepare: image too small']) {
      expect(c.parts[name]?.failedClean, name).toBe(1);
    }
  }, 300_000);
});

import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain-JS campaign script (bench/faults.js) over the built dist/
import { badInput } from '../../bench/faults.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { expectClean, type CampaignCounts } from './campaign-expect.js';

// Campaign 5 of `npm run faults` in full (it is cheap): every command with inputs it must
// refuse — exit 1/2, a JSON error with code, message and hint, and nothing written — and a
// seeded slice of its check --fix part: on cards with the user's files and fixable and
// unfixable defects, check --fix changes only what it reports; check without --fix and a
// refused --fix change no byte.
const scratch = tempDir('fwcard-rel-bad-');
afterAll(() => removeDir(scratch));

const FIX_PARTS = /^check (without --fix|--fix)/;

describe('bad input matrix (campaign 5)', () => {
  it('prepare, check and flash-sdcard refuse bad input with a hint and write nothing; check --fix changes only what it reports', async () => {
    const c: CampaignCounts & { judged: { fixes: Record<string, number> } } = await badInput({ scratch, seed: 502, fixRuns: 5 });
    expectClean(c, 28 + 3 * 5);
    const refusals = Object.entries(c.parts).filter(([name]) => !FIX_PARTS.test(name));
    expect(refusals.every(([, p]) => p.verified === 0 && p.failedClean === p.runs)).toBe(true);
    for (const name of ['prepare: ELF instead of BIN', 'prepare: another fwcard holds the image', 'flash-sdcard: another fwcard holds the port', 'prepare: image too small']) {
      expect(c.parts[name]?.failedClean, name).toBe(1);
    }
    expect(c.parts['check without --fix: writes nothing']).toMatchObject({ runs: 5, verified: 5 });
    expect(c.parts['check --fix: changes only what it reports']).toMatchObject({ runs: 5, verified: 5 });
    // Seed 502 makes --fix delete, rename and clear long names, and refuse a macOS folder that
    // holds a read-only file (which it once half deleted while reporting "not fixed").
    for (const kind of ['delete', 'rename', 'clear-lfn', 'notDone']) expect(c.judged.fixes[kind], kind).toBeGreaterThan(0);
  }, 300_000);
});

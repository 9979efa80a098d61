import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain-JS campaign script (bench/faults.js) over the built dist/
import { cardFaults, mcuFaults } from '../../bench/faults.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { expectClean, type CampaignCounts } from './campaign-expect.js';

// Campaigns 3 and 4 of `npm run faults`, one run of every fault kind.
const scratch = tempDir('fwcard-rel-dev-');
type Judged = { judged: { cards: number; hosts: number } };
afterAll(() => removeDir(scratch));

describe('card faults (campaign 3, subset)', () => {
  it('rejected writes, read CRC errors, a card stuck busy, removed, write-protected, lying about its size', async () => {
    const c: CampaignCounts & Judged = await cardFaults({ runs: 1, seed: 301, budgetMs: 200_000, scratch });
    expectClean(c, 7);
    // The user's files on the card and the -f/-d files: judged after every run and re-run.
    expect(c.judged.cards).toBeGreaterThanOrEqual(c.runs);
    expect(c.judged.hosts).toBeGreaterThanOrEqual(c.runs);
    expect(Object.keys(c.parts)).toHaveLength(7);
    // A write-protected card is refused, never "verified".
    expect(c.parts['write-protect set']!.failedClean).toBe(1);
  }, 240_000);
});

describe('MCU faults (campaign 4, subset)', () => {
  it('shut-down MCU, wrong MCU type, reshaped commands, echoing and noisy non-Klipper devices, wrong baud', async () => {
    const c: CampaignCounts & Judged = await mcuFaults({ runs: 1, seed: 401, budgetMs: 200_000, scratch });
    expectClean(c, 6);
    expect(c.judged.hosts).toBeGreaterThanOrEqual(c.runs);
    // A shut-down MCU is reset and updated; every other case is refused without writing.
    expect(c.parts['MCU shut down']!.verified).toBe(1);
    expect(c.failedClean).toBe(5);
  }, 240_000);
});

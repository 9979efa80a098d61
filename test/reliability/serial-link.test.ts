import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain-JS campaign script (bench/faults.js) over the built dist/
import { serialLink } from '../../bench/faults.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { expectClean, type CampaignCounts } from './campaign-expect.js';

// A small fixed-seed slice of campaign 1 of `npm run faults`: uploads through the simulated
// link with drops, flips, duplicates, bursts and stalls; each one verified or a clean failure
// that the re-run repairs, never success with wrong data, fsck.fat clean after every run, and
// the user's files on the card and the -f/-d files on the host untouched after every run.
const scratch = tempDir('fwcard-rel-link-');

type Judged = { judged: { cards: number; hosts: number } };
/** The host-loses-nothing judge read the card and the host directory after every run. */
function expectHostJudged(c: CampaignCounts & Judged): void {
  expect(c.judged.cards).toBeGreaterThanOrEqual(c.runs);
  expect(c.judged.hosts).toBeGreaterThanOrEqual(c.runs);
}
afterAll(() => removeDir(scratch));

/**
 * At a byte error rate of 1e-3 about one MCU answer in fifteen is lost; the SD drivers get
 * back in step with the card and finish (issue 7). Measured: 76 of 76 uploads verified at
 * 1e-3 (seeds 1, 11 and 21 of bench/faults.js's serial-link campaign, UART and USB), none
 * before the fix. One of the cell's two runs must verify.
 */
function expectVerifiedAt1e3(c: CampaignCounts, link: 'usb' | 'uart'): void {
  const cell = c.parts[`${link} 1e-3`];
  expect(cell?.runs).toBeGreaterThanOrEqual(1);
  expect(cell?.verified, `${link} 1e-3: ${JSON.stringify(cell)}`).toBeGreaterThanOrEqual(1);
}

describe('serial link faults (campaign 1, subset)', () => {
  it('USB link at byte error rates 1e-4 and 1e-3', async () => {
    const c: CampaignCounts & Judged = await serialLink({ runs: 2, rates: [1e-4, 1e-3], links: ['usb'], seed: 101, budgetMs: 100_000, scratch });
    expectClean(c, 2);
    expectHostJudged(c);
    expectVerifiedAt1e3(c, 'usb');
  }, 180_000);

  it('UART link (250000 baud) at 1e-5 and 1e-3', async () => {
    const low: CampaignCounts & Judged = await serialLink({ runs: 1, rates: [1e-5], links: ['uart'], seed: 102, budgetMs: 50_000, scratch });
    expectClean(low, 1);
    expectHostJudged(low);
    const high: CampaignCounts & Judged = await serialLink({ runs: 2, rates: [1e-3], links: ['uart'], seed: 103, budgetMs: 60_000, scratch });
    expectClean(high, 1);
    expectHostJudged(high);
    expectVerifiedAt1e3(high, 'uart');
  }, 180_000);
});

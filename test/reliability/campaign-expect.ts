import { expect } from 'vitest';

/** What bench/faults.js counts for a campaign (its exported functions return this). */
export interface CampaignCounts {
  name: string;
  runs: number;
  verified: number;
  failedClean: number;
  silentCorruption: number;
  invariantViolations: number;
  fsckFailures: number;
  hangs: number;
  parts: Record<string, { runs: number; verified: number; failedClean: number }>;
  problems: string[];
}

/**
 * The campaign's pass criteria (issue 7): no silent corruption, no invariant violation, no
 * fsck.fat failure, no hang, and every run either verified or failed cleanly (typed error with a
 * hint, the invariant held and a re-run succeeded). `minRuns` guards against a campaign that
 * quietly ran nothing.
 */
export function expectClean(c: CampaignCounts, minRuns: number): void {
  expect(c.problems, c.problems.join('\n')).toEqual([]);
  expect(c.runs).toBeGreaterThanOrEqual(minRuns);
  expect({ silentCorruption: c.silentCorruption, invariantViolations: c.invariantViolations, fsckFailures: c.fsckFailures, hangs: c.hangs }).toEqual({ silentCorruption: 0, invariantViolations: 0, fsckFailures: 0, hangs: 0 });
  expect(c.verified + c.failedClean).toBe(c.runs);
}

/**
 * Open finding (README, Reliability; issue 7 stays open for it): an upload cut off by an SD
 * error — a read CRC error on the card, or a data CRC error caused by a corrupted serial link —
 * can leave the pre-allocated chain of FWCARD.TMP unowned. fsck.fat then reports exactly
 * "Reclaimed N unused clusters" after an `sd-…` error, and nothing else. What the bootloader
 * would flash is unaffected and the re-run verifies. This passes that one message and fails on
 * any other complaint.
 */
export const LOST_CLUSTERS_AFTER_SD_ERROR = /^[\w ()-]+: after sd-[\w-]+: Reclaimed \d+ unused clusters \(\d+ bytes\)\. \/\s+\/ Leaving filesystem unchanged\. \/ \S+: \d+ files, \d+\/\d+ clusters \/ $/;

export function expectCleanButKnownLostClusters(c: CampaignCounts, minRuns: number): void {
  const known = c.problems.filter((p) => LOST_CLUSTERS_AFTER_SD_ERROR.test(p));
  expectClean({ ...c, problems: c.problems.filter((p) => !LOST_CLUSTERS_AFTER_SD_ERROR.test(p)), fsckFailures: c.fsckFailures - known.length }, minRuns);
}

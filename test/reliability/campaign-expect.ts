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
  /** Interruptions after which fsck.fat found an update half-written; how many the re-run undid. */
  undo: { halfWritten: number; undone: number };
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

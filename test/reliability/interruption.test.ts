import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain-JS campaign script (bench/faults.js) over the built dist/
import { interruption } from '../../bench/faults.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { expectClean, type CampaignCounts } from './campaign-expect.js';

// Campaign 2 of `npm run faults`, a few seeded points of each kind: after each interruption the
// bootloader would flash the old state or the complete new firmware, fwcard check gives a
// verdict, and the same command run again succeeds; after flash-sdcard, the user's files on the
// card are untouched, and the firmware files given on the host too.
type Judged = { judged: { cards: number; hosts: number } };
const scratch = tempDir('fwcard-rel-int-');
afterAll(() => removeDir(scratch));

describe('interruptions (campaign 2, subset)', () => {
  it('SIGKILL of fwcard flash-sdcard (child process on a pty from fwcard simulate)', async () => {
    const c: CampaignCounts & Judged = await interruption({ runs: 3, seed: 201, budgetMs: 150_000, scratch, kinds: ['kill-flash'] });
    // A kill between the writes of one FAT update may leave it half-written; the re-run must
    // undo it (counted in c.undo) and leave a card fsck.fat finds nothing wrong with.
    expectClean(c, 3);
    expect(c.undo.undone).toBe(c.undo.halfWritten);
    // After the kill and after the re-run.
    expect(c.judged.cards).toBeGreaterThanOrEqual(2 * c.runs);
  }, 200_000);

  it('the board unplugged during the upload or the read-back', async () => {
    const c: CampaignCounts & Judged = await interruption({ runs: 3, seed: 202, budgetMs: 150_000, scratch, kinds: ['unplug'] });
    expectClean(c, 3);
    expect(c.judged.cards).toBeGreaterThanOrEqual(c.runs);
  }, 200_000);

  it('SIGKILL of fwcard prepare on an image file and on a loop device', async () => {
    const c: CampaignCounts & Judged = await interruption({ runs: 2, seed: 203, budgetMs: 300_000, scratch, kinds: ['kill-prepare-image', 'kill-prepare-loop'] });
    expectClean(c, 4);
    // prepare formats by consent: only its --firmware file is judged.
    expect(c.judged.hosts).toBeGreaterThanOrEqual(2 * c.runs);
  }, 300_000);
});

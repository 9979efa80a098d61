/** prepare's words and figures (issue 16): what a refusal would have done; times without the prompt. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { prepare } from '../../src/flows/prepare.js';
import { fingerprint, removeDir, runCli, tempDir, unwrapped } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const BOARD = 'btt-octopus-f446-v1';
const dir = tempDir();
afterAll(() => removeDir(dir));

describe('prepare says what it would do', () => {
  it('--no-format without --yes and no terminal: not "erase" (nothing would be), and how to confirm', () => {
    const img = join(dir, 'keep.img');
    expect(runCli(['prepare', img, '--size', '64M', '--board', BOARD, '--firmware', FIRMWARE, '--yes', '-q']).status).toBe(0);
    const before = fingerprint(img);
    const r = runCli(['prepare', img, '--board', BOARD, '--firmware', FIRMWARE, '--no-format']);
    expect(r.status).toBe(2);
    const err = unwrapped(r.stderr); // laid out for the width (issue 16)
    expect(err).not.toMatch(/erase without/);
    expect(err).toMatch(/refusing to write the firmware onto the existing volume without confirmation/);
    expect(err).toMatch(/Nothing would be erased/);
    expect(err).toMatch(/Pass --yes/);
    expect(fingerprint(img)).toBe(before);
    // A format still says erase.
    const f = runCli(['prepare', img, '--board', BOARD, '--firmware', FIRMWARE]);
    expect(unwrapped(f.stderr)).toMatch(/refusing to erase without confirmation/);
  });

  it('the time reported leaves out the time spent at the prompt', async () => {
    const img = join(dir, 'timed.img');
    const WAIT = 1500;
    let waited = 0;
    const t0 = Date.now();
    const r = await prepare({
      target: img, size: 64 * 1024 * 1024, board: BOARD, firmware: FIRMWARE,
      confirm: async () => {
        const t = Date.now();
        await new Promise((res) => setTimeout(res, WAIT));
        waited = Date.now() - t;
        return true;
      },
    });
    const total = Date.now() - t0;
    expect(r.verified).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(WAIT - 5);
    // Whatever the machine's load: the reported time is the run's time without the wait.
    expect(r.durationMs).toBeLessThanOrEqual(total - waited + 20);
    expect(r.durationMs).toBeGreaterThan(0);
  });
});

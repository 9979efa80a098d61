import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain-JS campaign script (bench/faults.js) over the built dist/
import { fuzzTargets, FUZZ_LIMIT_MS } from '../../bench/faults.js';
import { removeDir, tempDir } from '../helpers/judges.js';

// Campaign 6 of `npm run faults`, bounded: every parser that reads bytes a card or an MCU
// controls (MBR/GPT, boot sector, directory entries, a whole hostile card through check, Klipper
// frames, identify dictionaries, VLQ, firmware headers, CSD/CID) returns or throws one of our
// typed errors, fast. fast-check shrinks and prints the input of any failure; the seed is fixed.
const scratch = tempDir('fwcard-fuzz-');
afterAll(() => removeDir(scratch));

interface Target {
  name: string;
  arb: fc.Arbitrary<unknown>;
  run: (input: unknown) => unknown;
}

const { typed, targets } = (await fuzzTargets(scratch)) as { typed: Array<new (...a: never[]) => Error>; targets: Target[] };

describe('parsers under fuzzing (campaign 6, bounded)', () => {
  it('covers every parser the campaign fuzzes', () => {
    expect(targets.map((t) => t.name)).toEqual([
      'MBR', 'partition probe (MBR/GPT)', 'boot sector', 'directory entries', 'whole card (check) from a hostile image',
      'Klipper frames', 'identify dictionary', 'VLQ', 'firmware header', 'Klipper dictionary in firmware', 'CSD/CID registers',
    ]);
  });

  for (const t of targets) {
    it(`${t.name}: only typed errors, each input within ${FUZZ_LIMIT_MS} ms`, async () => {
      await fc.assert(
        fc.asyncProperty(t.arb, async (input) => {
          const t0 = performance.now();
          try {
            await t.run(input);
          } catch (e) {
            if (!typed.some((T) => e instanceof T)) throw e;
          }
          expect(performance.now() - t0).toBeLessThan(FUZZ_LIMIT_MS);
        }),
        { numRuns: t.name.startsWith('whole card') ? 60 : 150, seed: 7000 + t.name.length },
      );
    }, 120_000);
  }

  it('the DataDictionary range bound holds: a hostile enumeration is refused quickly, not expanded', async () => {
    const dict = targets.find((t) => t.name === 'identify dictionary')!;
    const t0 = performance.now();
    const hostile = JSON.stringify({ commands: {}, responses: {}, enumerations: { pin: { PA0: [0, 4_000_000_000] } } });
    await expect(Promise.resolve().then(() => dict.run(hostile))).rejects.toThrow(/bad enumeration range/);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

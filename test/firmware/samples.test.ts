import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { syntheticSamples } from '../../fixtures/synth/samples.js';
import { catalog, errors } from './helpers.js';

const path = (name: string) => new URL(`../../fixtures/firmware/${name}`, import.meta.url);

describe('committed synthetic samples', () => {
  const samples = syntheticSamples();

  it('equal what the generator makes, and stay small', () => {
    for (const s of samples) {
      const committed = new Uint8Array(readFileSync(path(s.name)));
      expect(committed.length, s.name).toBe(s.bytes.length);
      expect(Buffer.compare(Buffer.from(committed), Buffer.from(s.bytes)), `${s.name} differs: run node fixtures/generate.mjs`).toBe(0);
      expect(statSync(path(s.name)).size).toBeLessThan(100 * 1024);
    }
  });

  it('are what fixtures/generate.mjs and bench/faults.js get too (fixtures/load-synth.mjs compiles the same generator)', async () => {
    // @ts-expect-error a plain-JS module without type declarations
    const { loadSynth } = await import('../../fixtures/load-synth.mjs');
    const compiled = (await loadSynth()).syntheticSamples() as typeof samples;
    expect(compiled.map((s) => s.name)).toEqual(samples.map((s) => s.name));
    compiled.forEach((c, i) => expect(Buffer.compare(Buffer.from(c.bytes), Buffer.from(samples[i]!.bytes)), c.name).toBe(0));
  });

  it('inspect as their descriptions say', () => {
    const insp = (name: string, board: string) => inspectFirmware(new Uint8Array(readFileSync(path(name))), { board: catalog.get(board), fileName: name });
    expect(errors(insp('klipper-stm32f446-32k.bin', 'btt-octopus-f446-v1'))).toEqual([]);
    expect(errors(insp('klipper-stm32f446-nobootloader.bin', 'btt-octopus-f446-v1'))).toEqual(['no-bootloader-build']);
    expect(errors(insp('klipper-lpc1769-16k.bin', 'btt-skr-turbo-v1.4'))).toEqual([]);
    expect(errors(insp('marlin-stm32f103-28k.bin', 'creality-v4.2.2'))).toEqual([]);
    const mks = insp('klipper-stm32f103-28k.mks-robin.bin', 'mks-robin-v12');
    expect([mks.kind, mks.flashStart, errors(mks)]).toEqual(['mks-scrambled', 0x08007000, []]);
    const cbd = insp('klipper-stm32f103-34k.update.cbd', 'chitu-v6');
    expect([cbd.kind, cbd.flashStart, errors(cbd)]).toEqual(['chitu-cbd', 0x08008800, []]);
  });
});

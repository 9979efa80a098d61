/** inspect's words for what is not a firmware image (issue 16). */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, unwrapped } from '../helpers/judges.js';

describe('fwcard inspect', () => {
  it('a missing file: about the path and where Klipper builds, not about drives', () => {
    const r = runCli(['inspect', join(process.cwd(), 'no-such-dir', 'klipper.bin')]);
    expect(r.status).toBe(2);
    const err = unwrapped(r.stderr); // laid out for the width (issue 16)
    expect(err).toMatch(/klipper\.bin does not exist/);
    expect(err).toMatch(/Check the path: Klipper builds to ~\/klipper\/out\/klipper\.bin/);
    expect(r.stderr).not.toMatch(/fwcard drives/);
  });

  it('klipper.dict: a Klipper data dictionary for flash-sdcard -d, not "a text file"', () => {
    const r = runCli(['inspect', join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.dict')]);
    const out = unwrapped(r.stdout);
    expect(out).toMatch(/Klipper data dictionary/);
    expect(out).toMatch(/for stm32f446xx, not firmware/);
    expect(out).toMatch(/flash-sdcard -d/);
    expect(r.stdout + r.stderr).not.toMatch(/text file/);
  });
});

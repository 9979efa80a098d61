/** inspect's words for what is not a firmware image (issue 16). */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli } from '../helpers/judges.js';

describe('fwcard inspect', () => {
  it('a missing file: about the path and where Klipper builds, not about drives', () => {
    const r = runCli(['inspect', join(process.cwd(), 'no-such-dir', 'klipper.bin')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/klipper\.bin does not exist/);
    expect(r.stderr).toMatch(/Check the path: Klipper builds to ~\/klipper\/out\/klipper\.bin/);
    expect(r.stderr).not.toMatch(/fwcard drives/);
  });

  it('klipper.dict: a Klipper data dictionary for flash-sdcard -d, not "a text file"', () => {
    const r = runCli(['inspect', join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.dict')]);
    expect(r.stdout).toMatch(/Klipper data dictionary/);
    expect(r.stdout).toMatch(/for stm32f446xx, not firmware/);
    expect(r.stdout).toMatch(/flash-sdcard -d/);
    expect(r.stdout + r.stderr).not.toMatch(/text file/);
  });
});

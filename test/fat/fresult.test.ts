import { describe, expect, it } from 'vitest';
import * as F from 'js-fatfs';
import { fatError, FRESULT, fresultName } from '../../src/fat/fresult.js';

describe('FRESULT codes written out in fresult.ts', () => {
  it("equal js-fatfs's own exports, one by one", () => {
    for (const [name, code] of Object.entries(FRESULT)) expect(code, name).toBe((F as unknown as Record<string, number>)[name]);
    expect(fresultName(F.FR_NO_FILESYSTEM)).toBe('FR_NO_FILESYSTEM');
    expect(fatError(F.FR_NO_FILE, 'open', '/x.bin').code).toBe('fat-not-found');
  });
});

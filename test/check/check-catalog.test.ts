import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../src/boards/catalog.js';
import { check } from '../../src/flows/check.js';
import { prepare } from '../../src/flows/prepare.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { removeDir, tempDir } from '../helpers/judges.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('fwcard-checkcat-');
});
afterAll(() => removeDir(dir));

const boards = loadCatalog({ noUserConfig: true }).all();

describe('a card written by prepare checks ok for its board', () => {
  it('covers the whole catalog', () => {
    expect(boards.length).toBeGreaterThan(40);
  });
  for (const board of boards) {
    it(board.name, async () => {
      const fw = makeSyntheticFirmware({ mcu: board.mcu, flashStart: board.appStart.value[0], klipper: true, seed: 7 });
      const fwPath = join(dir, `${board.name}.bin`);
      writeFileSync(fwPath, fw.bytes);
      const img = join(dir, `${board.name}.img`);
      await prepare({ target: img, size: 256 * 1024 * 1024, board: board.name, firmware: fwPath, confirm: async () => true, now: new Date('2026-11-24T12:00:00Z') });
      const r = await check({ target: img, board: board.name, firmware: fwPath });
      expect(r.findings.filter((f) => f.severity === 'error'), board.name).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.files?.firmware).not.toBeNull();
      expect(r.findings.map((f) => f.id)).toContain('firmware-matches');
      // prepare lays cards out the SD Association's way.
      expect(r.findings.map((f) => f.id)).not.toContain('not-sd-aligned');
    });
  }
});

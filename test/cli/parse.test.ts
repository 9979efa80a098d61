import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeDir, runCli, tempDir } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures/firmware/klipper-stm32f446-32k.bin');

// The typed parse of a command reads every flag once; what it rejects keeps being reported
// where it always was, with the same code and document.
describe('typed option parsing keeps the errors where they were', () => {
  it('a bad --size in a batch is each card\'s result, after the target and board are known', () => {
    const dir = tempDir('fwcard-parse-');
    try {
      const cards = [join(dir, 'a.img'), join(dir, 'b.img')];
      const r = runCli(['prepare', ...cards, '--board', 'btt-skr-v1.3', '--firmware', FIRMWARE, '--size', '8X', '--json']);
      expect(r.status).toBe(2);
      const doc = JSON.parse(r.stdout);
      expect(doc.ok).toBe(false);
      expect(doc.results.map((x: { target: string; error: { code: string } }) => [x.target, x.error.code])).toEqual(cards.map((c) => [c, 'bad-size']));
      // without --board and no terminal: the missing board is named first, as before
      const missing = runCli(['prepare', cards[0]!, '--firmware', FIRMWARE, '--cluster', 'x', '--json']);
      expect(missing.status).toBe(2);
      expect(JSON.parse(missing.stdout).error.code).toBe('missing-board');
    } finally {
      removeDir(dir);
    }
  });

  it('mcu-info and flash-sdcard reject a bad baud rate before opening anything (exit 2, one JSON document)', () => {
    const m = runCli(['mcu-info', '/dev/fwcard-no-such-port', '-b', 'fast', '--json']);
    expect(m.status).toBe(2);
    expect(JSON.parse(m.stdout).error.code).toBe('bad-baud');
    const f = runCli(['flash-sdcard', '/dev/fwcard-no-such-port', 'btt-skr-v1.3', '-b', '0', '--json']);
    expect(f.status).toBe(2);
    expect(JSON.parse(f.stdout).error.code).toBe('bad-baud');
    // -l lists boards whatever else is on the line
    const l = runCli(['flash-sdcard', '-l', '-b', '0', '--json']);
    expect(l.status).toBe(0);
    expect(JSON.parse(l.stdout).boards.length).toBeGreaterThan(10);
  });
});

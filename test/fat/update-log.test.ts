import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BlockDevice } from '../../src/disk/block-device.js';
import { planUndo, undoInterruptedUpdate, UpdateLogFile, type LoggedSector } from '../../src/fat/update-log.js';
import { removeDir, tempDir } from '../helpers/judges.js';

// The record file itself: written before an update, read by the next run, set aside when it no
// longer fits the card. (What an undo does to a real FAT volume: interrupted-updates.test.ts.)
const dir = tempDir('fwcard-update-log-');
afterAll(() => removeDir(dir));

const ID = { card: '0123456789abcdef0123456789abcdef', partitionStart: 2048 };
const fill = (v: number) => new Uint8Array(512).fill(v);

function memory(sectors: number): BlockDevice & { bytes: Uint8Array; writes: number[] } {
  const bytes = new Uint8Array(sectors * 512);
  const writes: number[] = [];
  return {
    bytes, writes, name: 'mem', sectorSize: 512, sectorCount: sectors, readOnly: false,
    read: async (lba, n) => bytes.slice(lba * 512, (lba + n) * 512),
    write: async (lba, d) => {
      bytes.set(d, lba * 512);
      writes.push(lba);
    },
    flush: async () => undefined,
    close: async () => undefined,
  };
}

/** A card whose boot sector is `boot` and a record of an update of sectors 5 (FAT) and 9 (entries). */
function recorded(name: string, boot: Uint8Array): { path: string; sectors: LoggedSector[] } {
  const path = join(dir, `${name}.json`);
  const sectors: LoggedSector[] = [
    { lba: 5, role: 'fat', before: fill(0), after: fill(1) },
    { lba: 9, role: 'other', before: fill(0), after: fill(2) },
  ];
  new UpdateLogFile(path, ID).begin(sectors, boot);
  return { path, sectors };
}

describe('the host record of a card update', () => {
  it('no record: nothing to do, nothing read', async () => {
    const dev = memory(16);
    expect(await undoInterruptedUpdate(dev, join(dir, 'none.json'), ID)).toEqual({ status: 'none' });
    expect(dev.writes).toEqual([]);
  });

  it('the first sector landed, the second not: the first is put back, the record removed', async () => {
    const dev = memory(16);
    dev.bytes.set(fill(7), 0);
    const { path } = recorded('half', fill(7));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ format: 'fwcard-update/1', card: ID.card, partitionStart: 2048 });
    dev.bytes.set(fill(1), 5 * 512);
    const r = await undoInterruptedUpdate(dev, path, ID);
    expect(r).toMatchObject({ status: 'undone', sectors: 2, written: 1 });
    expect(dev.bytes.subarray(5 * 512, 6 * 512)).toEqual(fill(0));
    expect(dev.writes).toEqual([5]);
    expect(existsSync(path)).toBe(false);
  });

  it('a card formatted again since (boot sector changed): nothing written, the record set aside', async () => {
    const dev = memory(16);
    dev.bytes.set(fill(8), 0);
    dev.bytes.set(fill(1), 5 * 512);
    const { path } = recorded('formatted', fill(7));
    const r = await undoInterruptedUpdate(dev, path, ID);
    expect(r).toMatchObject({ status: 'stale', reason: expect.stringMatching(/formatted again/) });
    expect(dev.writes).toEqual([]);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).some((f) => f.startsWith('formatted.stale-'))).toBe(true);
  });

  it('another card or another volume: set aside', async () => {
    const dev = memory(16);
    const { path } = recorded('other-card', fill(0));
    expect(await undoInterruptedUpdate(dev, path, { ...ID, card: 'ff'.repeat(16) })).toMatchObject({ status: 'stale', reason: expect.stringMatching(/record is for/) });
    expect(dev.writes).toEqual([]);
  });

  it('a sector changed by someone else since: nothing written at all', async () => {
    const dev = memory(16);
    dev.bytes.set(fill(1), 5 * 512);
    dev.bytes.set(fill(3), 9 * 512);
    const { path } = recorded('conflict', fill(0));
    const r = await undoInterruptedUpdate(dev, path, ID);
    expect(r).toMatchObject({ status: 'stale', reason: expect.stringMatching(/sector 9 .* changed by something else/) });
    expect(dev.writes).toEqual([]);
  });

  it('a damaged record: set aside, not trusted', async () => {
    const dev = memory(16);
    const path = join(dir, 'damaged.json');
    writeFileSync(path, '{"format":"fwcard-update/1","sectors":');
    expect(await undoInterruptedUpdate(dev, path, ID)).toMatchObject({ status: 'stale', reason: expect.stringMatching(/not readable/) });
    expect(dev.writes).toEqual([]);
  });

  it('a record that cannot be written refuses the update with a typed error and a hint', () => {
    // A path under a regular file fails for root too (a directory mode would not stop root).
    writeFileSync(join(dir, 'not-a-dir'), 'a file');
    let e: any;
    try {
      new UpdateLogFile(join(dir, 'not-a-dir', 'x.json'), ID).begin([], fill(0));
    } catch (x) {
      e = x;
    }
    expect(e?.code).toBe('update-log-unwritable');
    expect(e?.hint).toMatch(/FWCARD_STATE_DIR/);
  });

  it('FSInfo: once touched, its free count and next-free hint become unknown, the rest kept', () => {
    const before = fill(0);
    const after = fill(0);
    after.set([1, 2, 3, 4], 488);
    const now = after.slice();
    now[100] = 9;
    const plan = planUndo([{ lba: 1, role: 'fsinfo', before, after }], [now]);
    expect(plan.ok).toBe(true);
    const w = plan.ok ? plan.writes[0]! : null;
    expect(w?.lba).toBe(1);
    expect([...w!.data.subarray(488, 496)]).toEqual(new Array(8).fill(0xff));
    expect(w!.data[100]).toBe(9);
  });
});

import type { LocalBlockDevice } from '../../disk/block-device.js';
import { PartitionView } from '../../disk/partition-view.js';
import { UsageError, advice, isFwcardError } from '../../errors.js';
import { FatVolume } from '../../fat/fat-volume.js';
import type { CheckFinding, FixAction } from './types.js';

export interface FixOutcome {
  id: string;
  action: FixAction;
  done: boolean;
  /** Why it was not done. */
  error?: string;
}

const LFN_ATTR = 0x0f;

/**
 * Apply the fixes the findings carry, and nothing else. Orphaned long-name slots are marked
 * deleted (0xE5) by rewriting their directory sector raw, after re-reading it and making sure
 * each slot is still the LFN part that was reported; junk deletion and renames go through
 * FatFs, which keeps FATs, FSInfo and names consistent.
 */
export async function applyFixes(dev: LocalBlockDevice, volume: { start: number; sectors: number }, findings: CheckFinding[]): Promise<FixOutcome[]> {
  const outcomes: FixOutcome[] = [];
  const work = findings.flatMap((f) => (f.fix ?? []).map((action) => ({ id: f.id, action })));
  const view = new PartitionView(dev, volume.start, volume.sectors);

  // 1. Raw: clear orphaned LFN slots, one sector write per sector touched.
  for (const w of work) {
    if (w.action.kind !== 'clear-lfn') continue;
    const bySector = new Map<number, number[]>();
    for (const s of w.action.slots) bySector.set(s.sector, [...(bySector.get(s.sector) ?? []), s.offset]);
    try {
      const sectors = [...bySector.entries()].map(([sector, offsets]) => ({ sector, offsets, data: view.readSync(sector, 1) }));
      for (const s of sectors) {
        for (const o of s.offsets) {
          const first = s.data[o]!;
          if ((s.data[o + 11]! & 0x3f) !== LFN_ATTR || first === 0xe5 || first === 0x00) throw new Error(`the slot at sector ${s.sector} offset ${o} is no longer the reported long-name part`);
        }
      }
      for (const s of sectors) {
        for (const o of s.offsets) s.data[o] = 0xe5;
        view.writeSync(s.sector, s.data);
      }
      view.flushSync();
      outcomes.push({ id: w.id, action: w.action, done: true });
    } catch (e) {
      outcomes.push({ id: w.id, action: w.action, done: false, error: (e as Error).message });
    }
  }

  // 2. Through FatFs: deletes and renames.
  const rest = work.filter((w) => w.action.kind !== 'clear-lfn');
  if (rest.length === 0) return outcomes;
  const fat = await FatVolume.mount(view);
  try {
    for (const w of rest) {
      try {
        if (w.action.kind === 'delete') deleteTree(fat, w.action.shortPath, w.action.path, w.action.isDir);
        else if (w.action.kind === 'rename') fat.rename(w.action.fromShort, w.action.to);
        outcomes.push({ id: w.id, action: w.action, done: true });
      } catch (e) {
        outcomes.push({ id: w.id, action: w.action, done: false, error: isFwcardError(e) ? e.message : String(e) });
      }
    }
  } finally {
    fat.unmount();
  }
  await dev.flush();
  return outcomes;
}

/**
 * Delete `path` and, for a folder, everything in it — or nothing. FatFs refuses to delete a
 * read-only file, so a tree holding one is refused before the first deletion: deleting as far as
 * it went left a macOS .Trashes half deleted and the outcome saying "not fixed" (found by the
 * check --fix part of the bad-input fault campaign).
 */
function deleteTree(fat: FatVolume, path: string, shownPath: string, isDir: boolean): void {
  // Paths by 8.3 name for FatFs, by the name the user sees for messages.
  const order: { path: string; shown: string; readOnly: boolean }[] = [];
  const collect = (p: string, shown: string, dir: boolean, readOnly: boolean): void => {
    if (dir) for (const e of fat.list(p)) collect(`${p}/${e.shortName || e.name}`, `${shown}/${e.name}`, e.isDir, e.readOnly);
    order.push({ path: p, shown, readOnly });
  };
  collect(path, shownPath, isDir, fat.stat(path).readOnly);
  const locked = order.filter((x) => x.readOnly);
  if (locked.length) {
    throw new UsageError('read-only-entry', `${locked[0]!.shown}${locked.length > 1 ? ` and ${locked.length - 1} more` : ''} ${locked.length > 1 ? 'are' : 'is'} read-only: nothing was deleted`, advice`Clear the read-only attribute (${{ argv: ['mattrib', '-r'], why: 'clears the read-only attribute (mtools)' }}, or the file's properties on the computer) and run --fix again.`);
  }
  for (const x of order) fat.unlink(x.path);
}

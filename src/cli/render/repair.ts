import type { RepairOutcome } from '../../flows/repair-card/hook.js';
import type { RepairSummary } from '../../flows/repair-card/summary.js';
import { formatBytes } from '../../util/size.js';
import { describeCardContent } from './card-content.js';
import { wrap } from '../wrap.js';

/** One statement, wrapped to the terminal's 80 columns under `indent`. */
const para = (indent: string, text: string) => wrap(text, indent, `${indent}  `);

/** flash-sdcard --format: the repair of the card in the board, in words (plan, question, result). */
export function repairPlanLines(s: RepairSummary, o: { dryRun: boolean }): string[] {
  const now = describeCardContent(s.now).map((l) => `    ${l}`);
  if (!s.needed) return [...para('  ', 'the card is one the board\'s bootloader reads: it is not re-created (--format changes nothing)'), '    now on it (kept):', ...now];
  const v = s.volume!;
  return [
    ...para('  ', `the board's bootloader cannot read the card: ${s.reasons.map((r) => r.message).join('; ')}`),
    `  now on it (${o.dryRun ? 'a real run destroys this' : 'will be destroyed'}):`,
    ...now,
    ...para('  ', `re-create it: a new MBR and a ${formatBytes(v.sectors * 512)} ${v.fs} volume "${v.label}" at sector ${v.partitionStart} (${formatBytes(v.clusterBytes)} clusters; ${formatBytes(s.bytesWritten)} written over the link: FATs and root first, the partition table last)`),
    ...para('  ', `${s.reclaim} (${formatBytes(s.unusedBytes)} unused)`),
  ];
}

export function repairResultLines(r: RepairOutcome): string[] {
  if (r.status === 'repaired') {
    const v = r.summary.volume!;
    return [...para('  ', `re-created the card: ${v.fs} volume "${v.label}", ${formatBytes(v.sectors * 512)} at sector ${v.partitionStart} (${formatBytes(r.bytesWritten)} written in ${(r.ms / 1000).toFixed(2)}s)`), ...para('  ', r.summary.reclaim ?? '')];
  }
  if (r.status === 'resumed') {
    const x = r.resumed;
    if (x.status === 'completed') return para('  ', `completed the card repair an earlier run left unfinished (started ${x.started})`);
    if (x.status === 'stale') return para('  ', `found a record of an unfinished card repair that does not fit this card (${x.reason}); nothing was written, the record is kept at ${x.keptAt}`);
  }
  return [];
}

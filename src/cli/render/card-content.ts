import type { VolumeContent } from '../../partition/content.js';
import type { CardProbe } from '../../partition/probe.js';
import { formatBytes } from '../../util/size.js';

/**
 * What is on a card now, in words: the same lines in prepare's plan (and its erase prompt),
 * `prepare --dry-run` and `check`. Pure: it renders what partition/probe.ts read.
 */

const NAMES: Partial<Record<VolumeContent['fs'], string>> = {
  swap: 'swap',
  LUKS: 'LUKS encrypted volume',
  LVM2: 'LVM2 physical volume',
  ISO9660: 'ISO 9660 image',
  empty: 'empty (no file system, no data found)',
  unknown: 'unknown data',
};

/** One volume's content, e.g. `ext4 "opi_root", 3.10 GiB used of 28.9 GiB`. */
export function describeContent(c: VolumeContent): string {
  const parts: string[] = [];
  let head = NAMES[c.fs] ?? c.fs;
  if (c.label) head += ` "${c.label}"`;
  const detail = c.fs === 'LVM2' && c.detail === 'physical volume' ? null : c.detail;
  if (detail) head += ` (${detail})`;
  parts.push(head);
  if (c.usedBytes !== null && c.sizeBytes !== null) parts.push(`${formatBytes(c.usedBytes)} used of ${formatBytes(c.sizeBytes)}`);
  else if (c.usedBytes !== null) parts.push(`${formatBytes(c.usedBytes)} used`);
  else if (c.sizeBytes !== null && (c.fs === 'swap' || c.fs === 'ISO9660')) parts.push(formatBytes(c.sizeBytes));
  if (c.files) parts.push(describeFiles(c.files));
  return parts.join(', ');
}

function describeFiles(f: NonNullable<VolumeContent['files']>): string {
  if (f.count === 0) return f.complete ? 'root directory empty' : 'no names in the first root sectors';
  const n = `${f.complete ? '' : 'at least '}${f.count} ${f.count === 1 ? 'entry' : 'entries'} in the root`;
  const more = f.count > f.names.length ? ', …' : '';
  return `${n}: ${f.names.join(', ')}${more}`;
}

interface PartitionLike {
  index: number;
  start: number;
  sectors: number;
  typeName: string;
  name?: string | null;
  content: VolumeContent;
}

/** `#2: start 532480, 28.9 GiB, Linux: ext4 "opi_root", …` (logical partitions are numbered from 5, as Linux does). */
export function describePartition(p: PartitionLike, sectorSize = 512): string {
  const where = `#${p.index + 1}`;
  return `${where}: start ${p.start}, ${formatBytes(p.sectors * sectorSize)}, ${p.typeName}${p.name ? ` "${p.name}"` : ''}: ${describeContent(p.content)}`;
}

/** The whole card: table, then one line per partition (indented), or the content of a card without a table. */
export function describeCardContent(c: CardProbe | null, sectorSize = 512): string[] {
  if (!c) return ['(new image file: nothing to destroy)'];
  if (c.table === 'none') return [`no partition table; the whole card: ${c.whole ? describeContent(c.whole) : (c.superfloppyFs ?? 'unknown')}`];
  const all = [...c.partitions, ...c.logical];
  const gptNote = c.table === 'gpt' && c.gptHeader === false ? ' (protective MBR, but no "EFI PART" header)' : '';
  const lines = [`${c.table.toUpperCase()} partition table${gptNote} with ${all.length} partition${all.length === 1 ? '' : 's'}`];
  for (const p of all) lines.push(`  ${describePartition(p, sectorSize)}`);
  return lines;
}

/** prepare's plan and dry run: what is on the target now, and whether the format destroys it. */
export function describeTargetNow(current: CardProbe | null, format: boolean, dryRun = false): string[] {
  const head = format ? `now on it (${dryRun ? 'a real run destroys this' : 'will be destroyed'}):` : 'now on it (kept):';
  return [head, ...describeCardContent(current).map((l) => '  ' + l)];
}

interface CheckedPartition {
  slot: number;
  start: number;
  sectors: number;
  typeName: string;
  name?: string | null;
  fs: string;
  label: string | null;
  logical: boolean;
  content: VolumeContent | null;
}

/** check's partition lines: each with what it holds (`content`), or its file system where that was not read. */
export function describeCheckedPartitions(card: { table: 'mbr' | 'gpt' | 'none'; sectorSize: number; partitions: CheckedPartition[]; content: VolumeContent | null }): string[] {
  if (card.table === 'none') {
    const fat = card.content === null || /^FAT/.test(card.content.fs);
    return [`no partition table${fat ? ' (superfloppy)' : ''}${card.content ? `; the whole card: ${describeContent(card.content)}` : ''}`];
  }
  return card.partitions.map((p) => {
    const what = p.content ? describeContent(p.content) : `${p.fs}${p.label ? ` "${p.label}"` : ''}`;
    return `${p.logical ? `logical #${p.slot + 1}` : `#${p.slot + 1}`}: start ${p.start}, ${formatBytes(p.sectors * card.sectorSize)}, ${p.typeName}${p.name ? ` "${p.name}"` : ''}: ${what}`;
  });
}

import { loadCatalog } from '../../boards/catalog.js';
import type { Board } from '../../boards/types.js';
import { assessDisk, assertWritableDisk } from '../../disk/safety.js';
import { UsageError } from '../../errors.js';
import { cardKind, planLayout, type Layout } from '../../fat/layout.js';
import { formatBytes, formatGB } from '../../util/size.js';
import { planCardTarget } from '../card-name.js';
import { checkFirmwareForBoard, type FirmwareCheck } from '../firmware-check.js';
import { readFirmwareFile, sha256 } from '../firmware-file.js';
import { describeTarget, existingVolume, listFolder, readCurrent } from './target.js';
import type { PrepareOptions, PreparePlan, TargetFacts, VolumePlace } from './types.js';

/** Everything prepare will do, found out by reading only: nothing is written here. */
export async function planPrepare(opts: PrepareOptions): Promise<PreparePlan> {
  const board = loadCatalog(opts.boardsFile ? { boardsFile: opts.boardsFile } : {}).get(opts.board);
  const fw = readFirmwareFile(opts.firmware);
  const inspection = checkFirmwareForBoard(fw.bytes, board, opts.firmware);
  const format = opts.format ?? true;
  const { facts, sectorSize } = await targetFacts(opts);
  const { layout, volume } = format ? planFormat(opts, board, facts, sectorSize, inspection) : planKeep(opts, facts, sectorSize);

  // Name on the card, and what a unique-name board needs removed.
  const existing = !format && facts.current ? await listFolder(opts.target, volume, board) : [];
  const card = planCardTarget(board, { existing, now: opts.now ?? new Date() });
  return {
    target: facts,
    board,
    format,
    layout,
    volume,
    firmware: { path: fw.path, size: fw.bytes.byteLength, sha256: sha256(inspection.writeBytes), cardPath: card.path, writtenBytes: inspection.writeBytes.byteLength },
    inspection: { ...inspection, findings: [...inspection.findings, ...cardFindings(board, facts, volume)] },
    removes: card.removes,
  };
}

/** The target's facts; the safety rules run first, before any other reading of a device. */
async function targetFacts(opts: PrepareOptions): Promise<{ facts: TargetFacts; sectorSize: number }> {
  const t = describeTarget(opts.target, opts.size);
  const safety = t.info ? assessDisk(t.info) : null;
  if (t.info) assertWritableDisk(opts.target, t.info, safety!, { allowMounted: true });
  const current = t.exists ? await readCurrent(opts.target) : null;
  const facts: TargetFacts = {
    path: opts.target,
    kind: t.kind,
    exists: t.exists,
    sizeBytes: t.sizeBytes,
    cardKind: cardKind(t.sizeBytes),
    model: t.info ? [t.info.vendor, t.info.model].filter(Boolean).join(' ') || null : null,
    removable: t.info ? t.info.removable : null,
    current,
    mounted: safety?.mounted ?? [],
  };
  return { facts, sectorSize: t.info?.logicalSectorSize ?? 512 };
}

/** A fresh format: the layout for this card and board, refused when the firmware would not fit. */
function planFormat(opts: PrepareOptions, board: Board, t: TargetFacts, sectorSize: number, inspection: FirmwareCheck): { layout: Layout; volume: VolumePlace } {
  const layout = planLayout({
    deviceSectors: Math.floor(t.sizeBytes / sectorSize),
    sectorSize,
    fs: opts.fs ?? 'auto',
    ...(opts.clusterBytes !== undefined ? { clusterBytes: opts.clusterBytes } : {}),
    ...(opts.partitionBytes !== undefined ? { partitionBytes: opts.partitionBytes } : {}),
    mbr: opts.mbr ?? true,
    ...(board.card.value.maxClusterBytes !== undefined ? { maxClusterBytes: board.card.value.maxClusterBytes } : {}),
    boardFileSystems: board.card.value.fileSystems,
  });
  const capacity = (layout.clusterCount - 1) * layout.clusterBytes;
  if (inspection.writeBytes.byteLength > capacity) {
    throw new UsageError('firmware-does-not-fit', `the firmware (${formatBytes(inspection.writeBytes.byteLength)}) does not fit on a ${formatBytes(capacity)} volume`, {
      hint: 'Use a larger --size / --partition-size.',
    });
  }
  return { layout, volume: { start: layout.partitionStart, sectors: layout.partitionSectors } };
}

/** --no-format: the card's own FAT volume, and no formatting option may be given. */
function planKeep(opts: PrepareOptions, t: TargetFacts, sectorSize: number): { layout: null; volume: VolumePlace } {
  if ((opts.fs && opts.fs !== 'auto') || opts.clusterBytes || opts.partitionBytes || opts.mbr === false || opts.label) {
    throw new UsageError('format-options-without-format', '--fs, --cluster, --partition-size, --label and --no-mbr only apply when formatting', {
      hint: 'Leave them out with --no-format, or drop --no-format to re-create the card.',
    });
  }
  const v = existingVolume(t.current, opts.target);
  return { layout: null, volume: { start: v.start, sectors: v.sectors ?? Math.floor(t.sizeBytes / sectorSize) - v.start } };
}

/** What the catalog says about this card for this board (reported; the user decides). */
function cardFindings(board: Board, target: TargetFacts, volume: VolumePlace): FirmwareCheck['findings'] {
  const max = board.card.value.maxCardBytes;
  if (max === undefined || target.sizeBytes <= max) return [];
  const volumeBytes = volume.sectors * 512;
  const size = formatBytes(Math.min(max, 8 * 1024 ** 3));
  return [{
    id: 'card-larger-than-board-max',
    severity: 'warning',
    message: `the card holds ${formatGB(target.sizeBytes)}; ${board.name} is reported to work with cards up to ${formatGB(max)} (catalog: ${board.card.confidence})${volumeBytes <= max ? `, and this volume is ${formatGB(volumeBytes)}` : ''} (GB = 10^9 bytes, as on a card's label)`,
    hint: volumeBytes <= max
      ? 'If the board still ignores the card, use a smaller card.'
      : `Use a smaller card, or a small volume on this one: add --partition-size ${size.replace(/\.00 GiB$/, 'G')} to the command.`,
  }];
}

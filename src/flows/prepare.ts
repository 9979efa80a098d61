import { statSync } from 'node:fs';
import { loadCatalog } from '../boards/catalog.js';
import type { Board } from '../boards/types.js';
import type { LocalBlockDevice } from '../disk/block-device.js';
import { openImageFile } from '../disk/image-file.js';
import { blockInfo, type LinuxBlockInfo } from '../disk/linux-block.js';
import { PartitionView } from '../disk/partition-view.js';
import { openRawDevice } from '../disk/raw-device.js';
import { assessDisk, assertWritableDisk, unmountAll } from '../disk/safety.js';
import type { MountEntry } from '../disk/linux-block.js';
import { FormatError, SafetyError, UsageError, VerifyError, fromSystemError } from '../errors.js';
import { FatVolume } from '../fat/fat-volume.js';
import { writeFatVolume } from '../fat/format.js';
import { cardKind, planLayout, type Layout } from '../fat/layout.js';
import { probeCard, type CardProbe } from '../partition/probe.js';
import { noProgress, type ProgressListener } from '../progress.js';
import { formatBytes } from '../util/size.js';
import { acquireLock } from '../util/lock.js';
import { cardFileName, cardPath } from './card-name.js';
import { readFirmwareFile, sha256, type FirmwareFile } from './firmware-file.js';
import { checkFirmwareForBoard, type FirmwareCheck } from './firmware-check.js';

export interface PrepareOptions {
  target: string;
  board: string;
  firmware: string;
  boardsFile?: string;
  /** Create (or re-create) an image file of this many bytes. */
  size?: number;
  fs?: 'auto' | 'fat16' | 'fat32';
  clusterBytes?: number;
  partitionBytes?: number;
  label?: string;
  /** false: partitionless "superfloppy" volume. */
  mbr?: boolean;
  /** false: keep the card's FAT volume and only (re)place the firmware file. */
  format?: boolean;
  dryRun?: boolean;
  /** Write even when the firmware inspection reports an error. */
  force?: boolean;
  /** Asked once every check has passed and before the first write. */
  confirm: (plan: PreparePlan) => Promise<boolean>;
  onProgress?: ProgressListener;
  now?: Date;
}

export interface TargetFacts {
  path: string;
  kind: 'image' | 'block';
  exists: boolean;
  sizeBytes: number;
  cardKind: 'SDSC' | 'SDHC' | 'SDXC';
  model: string | null;
  removable: boolean | null;
  /** Current partition table and file systems: what a format destroys. */
  current: CardProbe | null;
  /** File systems of the card mounted now: unmounted after confirmation, before writing. */
  mounted: MountEntry[];
}

export interface PreparePlan {
  target: TargetFacts;
  board: Board;
  format: boolean;
  /** The new layout (format) or the volume found on the card (no format). */
  layout: Layout | null;
  volume: { start: number; sectors: number } ;
  firmware: { path: string; size: number; sha256: string; cardPath: string; writtenBytes: number };
  inspection: FirmwareCheck;
  /** Files that will be removed from the card (old .bin files on unique-name boards). */
  removes: string[];
}

export interface PrepareResult {
  target: string;
  board: string;
  fs: 'FAT16' | 'FAT32';
  clusterSize: number;
  partitionStart: number;
  partitionSectors: number;
  firmwarePath: string;
  sha256: string;
  firmwareSize: number;
  verified: boolean;
  formatted: boolean;
  removed: string[];
  bytesWritten: number;
  durationMs: number;
  dryRun: boolean;
  layout: Layout | null;
  findings: FirmwareCheck['findings'];
}

function describeTarget(path: string, size: number | undefined): { kind: 'image' | 'block'; exists: boolean; info: LinuxBlockInfo | null; sizeBytes: number } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, path, 'inspect');
  }
  if (!st) {
    if (size === undefined) {
      if (path.startsWith('/dev/')) throw fromSystemError({ code: 'ENOENT' }, path, 'open');
      throw new UsageError('image-missing', `${path} does not exist and no --size was given`, {
        hint: 'To create an image file, pass its size, e.g. --size 8G. For a card, check the device path with `fwcard drives`.',
        details: { path },
      });
    }
    return { kind: 'image', exists: false, info: null, sizeBytes: size };
  }
  if (st.isDirectory()) throw fromSystemError({ code: 'EISDIR' }, path, 'use');
  if (st.isBlockDevice()) {
    if (size !== undefined) {
      throw new UsageError('size-on-device', `--size applies to image files; ${path} is a device`, {
        hint: 'Leave --size out (the card size is read from the device), or use --partition-size for a smaller volume.',
      });
    }
    const info = blockInfo(path);
    if (!info) throw new UsageError('not-a-block-device', `${path}: cannot read its facts from sysfs`, { hint: 'Is this Linux with /sys mounted?' });
    return { kind: 'block', exists: true, info, sizeBytes: info.sizeBytes };
  }
  if (!st.isFile()) {
    throw new UsageError('not-an-image', `${path} is neither a regular file nor a block device`, {
      hint: 'Give an image file path (e.g. card.img) or a block device such as /dev/sdb.',
    });
  }
  return { kind: 'image', exists: true, info: null, sizeBytes: size ?? st.size };
}

async function readCurrent(path: string, kind: 'image' | 'block'): Promise<CardProbe | null> {
  const dev = kind === 'block' ? openRawDevice(path, { readOnly: true }) : openImageFile(path, { readOnly: true });
  try {
    return await probeCard(dev);
  } finally {
    await dev.close();
  }
}

/** Where the FAT volume of an existing card is, as a bootloader finds it (first primary, or superfloppy). */
function existingVolume(probe: CardProbe | null, path: string): { start: number; sectors: number | null } {
  if (!probe) throw new FormatError('no-filesystem', `${path} does not exist yet, so there is no volume to keep`, { hint: 'Leave --no-format out to format it.' });
  if (probe.table === 'none' && (probe.superfloppyFs === 'FAT16' || probe.superfloppyFs === 'FAT32' || probe.superfloppyFs === 'FAT12')) return { start: 0, sectors: null };
  const first = probe.partitions[0];
  if (probe.table === 'mbr' && first && (first.fs === 'FAT16' || first.fs === 'FAT32' || first.fs === 'FAT12')) return { start: first.start, sectors: first.sectors };
  const what = probe.table === 'gpt' ? 'a GPT partition table' : first ? `${first.fs} in its first partition` : `no FAT volume`;
  throw new FormatError('no-fat-volume', `${path} has ${what}; a stock bootloader cannot read that`, {
    hint: 'Format it: run the same command without --no-format (this erases the card).',
    details: { table: probe.table },
  });
}

export async function planPrepare(opts: PrepareOptions): Promise<PreparePlan> {
  const catalog = loadCatalog(opts.boardsFile ? { boardsFile: opts.boardsFile } : {});
  const board = catalog.get(opts.board);
  const fw: FirmwareFile = readFirmwareFile(opts.firmware);
  const inspection = checkFirmwareForBoard(fw.bytes, board, opts.firmware);
  const t = describeTarget(opts.target, opts.size);
  const format = opts.format ?? true;

  // Safety first, before any other reading of a device.
  const safety = t.kind === 'block' && t.info ? assessDisk(t.info) : null;
  if (t.kind === 'block' && t.info) assertWritableDisk(opts.target, t.info, safety!, { allowMounted: true });

  const current = t.exists && !(t.kind === 'image' && opts.size !== undefined && format && !t.exists) ? await readCurrent(opts.target, t.kind) : null;
  const sectorSize = t.info?.logicalSectorSize ?? 512;
  const deviceSectors = Math.floor(t.sizeBytes / sectorSize);
  const target: TargetFacts = {
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

  let layout: Layout | null = null;
  let volume: { start: number; sectors: number };
  if (format) {
    layout = planLayout({
      deviceSectors,
      sectorSize,
      fs: opts.fs ?? 'auto',
      ...(opts.clusterBytes !== undefined ? { clusterBytes: opts.clusterBytes } : {}),
      ...(opts.partitionBytes !== undefined ? { partitionBytes: opts.partitionBytes } : {}),
      mbr: opts.mbr ?? true,
      ...(board.card.value.maxClusterBytes !== undefined ? { maxClusterBytes: board.card.value.maxClusterBytes } : {}),
      boardFileSystems: board.card.value.fileSystems,
    });
    volume = { start: layout.partitionStart, sectors: layout.partitionSectors };
    const capacity = (layout.clusterCount - 1) * layout.clusterBytes;
    if (inspection.writeBytes.byteLength > capacity) {
      throw new UsageError('firmware-does-not-fit', `the firmware (${formatBytes(inspection.writeBytes.byteLength)}) does not fit on a ${formatBytes(capacity)} volume`, {
        hint: 'Use a larger --size / --partition-size.',
      });
    }
  } else {
    if ((opts.fs && opts.fs !== 'auto') || opts.clusterBytes || opts.partitionBytes || opts.mbr === false || opts.label) {
      throw new UsageError('format-options-without-format', '--fs, --cluster, --partition-size, --label and --no-mbr only apply when formatting', {
        hint: 'Leave them out with --no-format, or drop --no-format to re-create the card.',
      });
    }
    const v = existingVolume(current, opts.target);
    volume = { start: v.start, sectors: v.sectors ?? deviceSectors - v.start };
  }

  // Name on the card, and what a unique-name board needs removed.
  const now = opts.now ?? new Date();
  let removes: string[] = [];
  let existingNames: string[] = [];
  if (!format && current) {
    existingNames = await listFolder(opts.target, t.kind, volume, board);
    if (board.uniqueName.value) removes = existingNames.filter((n) => /\.bin$/i.test(n));
  }
  const name = cardFileName(board, now, existingNames);
  const path = cardPath(board, name);
  if (removes.length) removes = removes.filter((n) => n.toLowerCase() !== name.toLowerCase()).map((n) => cardPath(board, n));

  return {
    target,
    board,
    format,
    layout,
    volume,
    firmware: { path: fw.path, size: fw.bytes.byteLength, sha256: sha256(inspection.writeBytes), cardPath: path, writtenBytes: inspection.writeBytes.byteLength },
    inspection: { ...inspection, findings: [...inspection.findings, ...cardFindings(board, target, volume, opts)] },
    removes,
  };
}

/** What the catalog says about this card for this board (reported; the user decides). */
function cardFindings(board: Board, target: TargetFacts, volume: { start: number; sectors: number }, opts: PrepareOptions): PreparePlan['inspection']['findings'] {
  const max = board.card.value.maxCardBytes;
  const out: PreparePlan['inspection']['findings'] = [];
  const volumeBytes = volume.sectors * 512;
  if (max !== undefined && target.sizeBytes > max) {
    const size = formatBytes(Math.min(max, 8 * 1024 ** 3));
    out.push({
      id: 'card-larger-than-board-max',
      severity: 'warning',
      message: `the card is ${formatBytes(target.sizeBytes)}; ${board.name} is reported to work with cards up to ${formatBytes(max)} (catalog: ${board.card.confidence})${volumeBytes <= max ? `, and this volume is ${formatBytes(volumeBytes)}` : ''}`,
      hint: volumeBytes <= max
        ? 'If the board still ignores the card, use a smaller card.'
        : `Use a smaller card, or a small volume on this one: add --partition-size ${size.replace(/\.00 GiB$/, 'G')} to the command.`,
    });
  }
  void opts;
  return out;
}

async function listFolder(target: string, kind: 'image' | 'block', volume: { start: number; sectors: number }, board: Board): Promise<string[]> {
  const dev = kind === 'block' ? openRawDevice(target, { readOnly: true }) : openImageFile(target, { readOnly: true });
  try {
    const fat = await FatVolume.mount(new PartitionView(dev, volume.start, volume.sectors));
    try {
      const folder = '/' + board.folder.value.replace(/^\/+|\/+$/g, '');
      if (folder !== '/' && !fat.tryStat(folder)) return [];
      return fat.list(folder).filter((e) => !e.isDir).map((e) => e.name);
    } finally {
      fat.unmount();
    }
  } finally {
    await dev.close();
  }
}

/** Plan, confirm, format, write, read back and verify. Nothing is written before `confirm`. */
export async function prepare(opts: PrepareOptions): Promise<PrepareResult> {
  const started = Date.now();
  const progress = opts.onProgress ?? noProgress;
  const plan = await planPrepare(opts);
  const errors = plan.inspection.findings.filter((f) => f.severity === 'error');
  if (errors.length && !opts.force) {
    const first = errors[0]!;
    throw new UsageError(`firmware-${first.id}`, `firmware check failed for ${plan.board.name}: ${first.message}`, {
      hint: `${first.hint ?? ''}${first.hint ? ' ' : ''}(--force writes it anyway.)`.trim(),
      details: { findings: plan.inspection.findings },
    });
  }
  const base = {
    target: opts.target,
    board: plan.board.name,
    fs: (plan.layout?.fsType ?? 'FAT32') as 'FAT16' | 'FAT32',
    clusterSize: plan.layout?.clusterBytes ?? 0,
    partitionStart: plan.volume.start,
    partitionSectors: plan.volume.sectors,
    firmwarePath: plan.firmware.cardPath,
    sha256: plan.firmware.sha256,
    firmwareSize: plan.firmware.writtenBytes,
    formatted: plan.format,
    removed: plan.removes,
    layout: plan.layout,
    findings: plan.inspection.findings,
  };
  if (opts.dryRun) {
    return { ...base, verified: false, bytesWritten: 0, durationMs: Date.now() - started, dryRun: true };
  }
  if (!(await opts.confirm(plan))) {
    throw new SafetyError('not-confirmed', `nothing was written to ${opts.target}: not confirmed`, {
      hint: 'Answer "yes" at the prompt, or pass --yes when you are sure this is the right card.',
    });
  }

  // The desktop may have mounted the card: unmount it now that the user said yes.
  if (plan.target.mounted.length) {
    progress({ phase: 'partition', label: `unmounting ${plan.target.mounted.map((m) => m.mountPoint).join(', ')}` });
    unmountAll(opts.target, plan.target.mounted);
  }
  const lock = acquireLock(opts.target, 'card');
  let dev: LocalBlockDevice & { counters: { bytesWritten: number } };
  let knownZero = false;
  try {
    if (plan.target.kind === 'block') {
      dev = openRawDevice(opts.target, { readOnly: false });
    } else {
      // Re-create (truncate, then size) only a new image or one given a --size: re-formatting an
      // existing image in place keeps its size, so a prepare killed between the two truncations
      // cannot leave an empty file that the same command then refuses (fault campaign 2).
      const img = plan.format && (!plan.target.exists || opts.size !== undefined)
        ? openImageFile(opts.target, { size: plan.target.sizeBytes })
        : openImageFile(opts.target, {});
      knownZero = img.fresh;
      dev = img;
    }
  } catch (e) {
    lock.release();
    throw e;
  }
  try {
    if (plan.format && plan.layout) {
      progress({ phase: 'format', label: `formatting ${plan.layout.fsType}`, bytes: 0 });
      writeFatVolume(dev, plan.layout, { ...(opts.label !== undefined ? { label: opts.label } : {}), knownZero, onProgress: progress });
    }
    const view = new PartitionView(dev, plan.volume.start, plan.volume.sectors);
    const data = plan.inspection.writeBytes;
    const fat = await FatVolume.mount(view);
    let fsType: 'FAT16' | 'FAT32';
    try {
      const info = fat.info();
      if (info.fsType !== 'FAT16' && info.fsType !== 'FAT32') {
        throw new FormatError('unsupported-fat', `the card's volume is ${info.fsType}; fwcard writes FAT16/FAT32 only`, { hint: 'Re-create it without --no-format.' });
      }
      fsType = info.fsType;
      base.clusterSize = info.clusterBytes;
      const folder = plan.board.folder.value.replace(/^\/+|\/+$/g, '');
      if (folder) fat.mkdir('/' + folder);
      for (const r of plan.removes) fat.unlink(r);
      // Write under a temporary name and rename only after the data is complete: the bootloader
      // never sees a partial file under its name, even on a fresh format: FatVolume.writeFile
      // allocates the whole chain first, so a prepare killed mid-write would otherwise leave a
      // full-size firmware.bin whose tail was never written.
      const tmp = (folder ? `/${folder}` : '') + '/FWCARD.TMP';
      if (fat.tryStat(tmp)) fat.unlink(tmp);
      fat.writeFile(tmp, data, (e) => progress({ ...e, label: `writing ${plan.firmware.cardPath}` }));
      if (fat.tryStat(plan.firmware.cardPath)) fat.unlink(plan.firmware.cardPath);
      fat.rename(tmp, plan.firmware.cardPath);
    } finally {
      fat.unmount();
    }
    progress({ phase: 'flush', label: 'flushing to the card' });
    await dev.flush();

    // Read back through a fresh mount, so nothing comes from FatFs's cache.
    const check = await FatVolume.mount(view);
    let readBack: Uint8Array;
    try {
      readBack = check.readFile(plan.firmware.cardPath, progress);
    } finally {
      check.unmount();
    }
    const got = sha256(readBack);
    if (got !== plan.firmware.sha256) {
      throw new VerifyError('verify-mismatch', `read-back of ${plan.firmware.cardPath} does not match what was written (sha256 ${got.slice(0, 12)}… vs ${plan.firmware.sha256.slice(0, 12)}…)`, {
        hint: 'The card or reader corrupts data: try another card or USB reader (fake-capacity cards do this too).',
        details: { expected: plan.firmware.sha256, actual: got },
      });
    }
    progress({ phase: 'verify', label: 'verified', bytes: readBack.byteLength, total: readBack.byteLength, done: true });
    return { ...base, fs: fsType, verified: true, bytesWritten: dev.counters.bytesWritten, durationMs: Date.now() - started, dryRun: false };
  } finally {
    try {
      await dev.close();
    } finally {
      lock.release();
    }
  }
}

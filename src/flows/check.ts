import { statSync } from 'node:fs';
import { loadCatalog } from '../boards/catalog.js';
import type { Board } from '../boards/types.js';
import type { BlockDevice, LocalBlockDevice } from '../disk/block-device.js';
import { openImageFile } from '../disk/image-file.js';
import { RawDevice, openRawDevice } from '../disk/raw-device.js';
import { UsageError, advice, fromSystemError } from '../errors.js';
import { analyseCard } from './check/card.js';
import { analyseFiles, type GivenFirmware } from './check/files.js';
import { applyFixes, type FixOutcome } from './check/fix.js';
import { checkRemedy, type HintContext, type InBoard } from './check/hints.js';
import { rulesFor, type CheckRules } from './check/rules.js';
import type { CheckFinding, CheckReport } from './check/types.js';
import { analyseVolume } from './check/volume.js';
import { readFirmwareFile } from './firmware-file.js';

export type { CheckFinding, CheckReport, CardFacts, FilesFacts, FirmwareFacts, FixAction, PartitionFacts, VolumeFacts, Severity } from './check/types.js';
export { applyFixes, type FixOutcome } from './check/fix.js';
export { rulesFor, type CheckRules } from './check/rules.js';
export { checkRemedy, remedyKind, type InBoard, type RemedyKind } from './check/hints.js';

const DRIVES = { argv: ['fwcard', 'drives'], why: 'lists the cards this machine can see' };
const BOARDS_HELP = { argv: ['fwcard', 'boards', '--help'], why: 'shows how to add or override a board with --boards-file' };

export interface CheckCardOptions {
  /** The board whose bootloader judges the card; null/absent: the generic SD-bootloader view. */
  board?: Board | null;
  /** The firmware the card should hold (compared by hash, after the board's conversion too). */
  firmware?: GivenFirmware | null;
  /** How the user named the card, for the commands in hints (default: the device name). */
  target?: string;
  /** The board's name as the user typed it (an alias stays an alias in messages). */
  boardAs?: string;
  /** The card sits in a board, read through its MCU: hints name commands that work over the link. */
  inBoard?: InBoard | null;
}

const ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Errors first, then warnings, then info; stable within a severity. */
export function sortFindings(f: CheckFinding[]): CheckFinding[] {
  return f.map((x, i) => ({ x, i })).sort((a, b) => ORDER[a.x.severity] - ORDER[b.x.severity] || a.i - b.i).map((y) => y.x);
}

/**
 * Read a card (or image) and judge it for a board, writing nothing. Reads the partition
 * table, the boot sector area, the directories the bootloader looks in, the FAT sectors of the
 * chains it follows and the firmware file: a few hundred KiB on any card size. Reusable by
 * `doctor` and `flash-sdcard` over any BlockDevice (an SD card behind an MCU included).
 */
export async function checkCard(dev: BlockDevice, opts: CheckCardOptions = {}): Promise<CheckReport> {
  const rules = rulesFor(opts.board ?? null, opts.boardAs);
  const ctx: HintContext = { target: opts.target ?? dev.name, rules, firmwarePath: opts.firmware?.path ?? null, inBoard: opts.inBoard ?? null };
  const counted = countingReads(dev);
  const cardA = await analyseCard(counted.dev, ctx);
  const findings = [...cardA.findings];
  let files: CheckReport['files'] = null;
  if (cardA.fatVolume) {
    const vol = await analyseVolume(counted.dev, cardA.fatVolume, ctx);
    cardA.card.volume = vol.volume;
    findings.push(...vol.findings);
    if (vol.inspector) {
      const f = await analyseFiles(vol.inspector, ctx, opts.firmware ?? null);
      files = f.files;
      findings.push(...f.findings);
    }
  }
  // Said only where it changed the verdict: a warning or error judged by the generic view for want
  // of a catalog fact. On a card that passes, the gaps are no news (each finding that used the
  // generic view says so itself), and repeating them on every check taught users to skip them.
  const generic = findings.filter((f) => f.basis === 'generic' && f.severity !== 'info');
  const all = unknownBoardRules(rules);
  // The gaps behind those findings; all of them when no finding names its rule.
  const behind = all.filter((u) => generic.some((f) => u.ids.includes(f.id)));
  const unknown = (behind.length ? behind : all).map((u) => u.what);
  if (unknown.length && generic.length) findings.push({ id: 'board-rules-unknown', severity: 'info', basis: 'board', message: `${generic.map((f) => f.id).join(', ')}: judged by the generic SD-bootloader view, because the catalog does not know for ${rules.boardName} ${unknown.join('; ')}`, ...advice`If you know, add it with --boards-file (see ${BOARDS_HELP}).` });
  const sorted = sortFindings(findings);
  return {
    ok: !sorted.some((f) => f.severity === 'error'),
    board: rules.board?.name ?? null,
    view: rules.board ? 'board' : 'generic',
    card: cardA.card,
    files,
    findings: sorted,
    bytesRead: counted.bytes(),
  };
}

/** The card and name rules the board's catalog entry leaves open, with the findings each one decides. */
function unknownBoardRules(rules: CheckRules): { what: string; ids: string[] }[] {
  if (!rules.board) return [];
  const out: { what: string; ids: string[] }[] = [];
  if (!rules.superfloppy.known) out.push({ what: 'whether a card without a partition table is read', ids: ['superfloppy'] });
  if (!rules.gpt.known) out.push({ what: 'whether GPT is read', ids: ['gpt-partition-table'] });
  if (!rules.maxClusterBytes.known) out.push({ what: 'the largest cluster size', ids: ['cluster-too-large'] });
  if (!rules.maxCardBytes.known) out.push({ what: 'the largest card', ids: ['card-too-large'] });
  if (rules.caseSensitive === 'unknown') out.push({ what: 'whether file-name case matters', ids: ['firmware-name-case'] });
  if (rules.readsLongNames === 'unknown') out.push({ what: 'whether long file names are read', ids: ['firmware-name-not-8-3'] });
  return out;
}

/** Sectors a check keeps once read (2 MiB): far more than a check reads, short of a firmware-sized file twice. */
const CACHE_SECTORS = 4096;

/**
 * Wrap a device so that this check reads each sector once and counts what it read (the device's
 * own counters are cumulative). The card probe, the volume and the file checks look at the same
 * few sectors (the boot sector, a FAT sector, the root directory) one after the other; a card
 * behind an MCU pays for every sector in serial round trips, so they come from the device once.
 */
function countingReads(dev: BlockDevice): { dev: BlockDevice; bytes: () => number } {
  let n = 0;
  const cache = new Map<number, Uint8Array>();
  const size = dev.sectorSize;
  const fetch = async (lba: number, count: number, out: Uint8Array, at: number): Promise<void> => {
    const d = await dev.read(lba, count);
    n += count * size;
    out.set(d.subarray(0, count * size), at * size);
    for (let i = 0; i < count && cache.size < CACHE_SECTORS; i++) cache.set(lba + i, d.slice(i * size, (i + 1) * size));
  };
  const wrapped: BlockDevice = {
    name: dev.name,
    sectorSize: dev.sectorSize,
    sectorCount: dev.sectorCount,
    readOnly: dev.readOnly,
    read: async (lba, count) => {
      // Out of range: let the device refuse it, with its own error.
      if (count <= 0 || lba < 0 || lba + count > dev.sectorCount) return dev.read(lba, count);
      const out = new Uint8Array(count * size);
      let i = 0;
      while (i < count) {
        const hit = cache.get(lba + i);
        if (hit) {
          out.set(hit, i * size);
          i++;
          continue;
        }
        let j = i;
        while (j < count && !cache.has(lba + j)) j++;
        await fetch(lba + i, j - i, out, i);
        i = j;
      }
      return out;
    },
    write: () => Promise.reject(new Error('internal: check never writes')),
    flush: async () => undefined,
    close: async () => undefined,
  };
  return { dev: wrapped, bytes: () => n };
}

export interface CheckOptions {
  target: string;
  board?: string;
  boardsFile?: string;
  /** Local firmware file the card should hold. */
  firmware?: string;
  /** Repair junk, near-miss names and orphaned long names, then check again. */
  fix?: boolean;
}

export interface CheckResult extends CheckReport {
  target: string;
  /** How long the check took, start to end (with --fix: both checks and the repairs). */
  seconds: number;
  /** With --fix: what was done and the verdict before it (the top level is the verdict after). */
  fix?: { applied: FixOutcome[]; before: Pick<CheckReport, 'ok' | 'findings'> };
}

/**
 * Whether the user named a serial port (the board's MCU) rather than a card: a character
 * device, followed through symlinks (/dev/ttyACM0, /dev/serial/by-id/…, the pty link of
 * `fwcard simulate --port-link`), or a /dev/serial/… or /dev/tty… path that is not there.
 * Image files are regular files; cards are block devices.
 */
export function isSerialPort(path: string): boolean {
  try {
    return statSync(path).isCharacterDevice();
  } catch {
    // Not there: a board's port that is away (a USB board re-enumerating after a reset) still
    // names itself; connecting waits a moment for it, and says what to check if it stays away.
    return /^\/dev\/(serial\/|tty)/.test(path);
  }
}

type OpenedDevice = LocalBlockDevice & { counters?: unknown };

function openTarget(path: string, readOnly: boolean): OpenedDevice {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw fromSystemError(e, path, 'open');
  }
  if (st.isDirectory()) throw fromSystemError({ code: 'EISDIR' }, path, 'check');
  if (st.isBlockDevice()) return openRawDevice(path, { readOnly });
  if (!st.isFile()) throw new UsageError('not-an-image', `${path} is neither an image file nor a block device`, { ...advice`Give a card such as /dev/sdb (see ${DRIVES}) or an image file.` });
  if (st.size === 0) throw new UsageError('empty-image', `${path} is an empty file`, { hint: 'Give the card (e.g. /dev/sdb) or an image file made from it.' });
  return openImageFile(path, { readOnly });
}

/** `fwcard check`: open the target read-only, judge it; with `fix`, repair and judge again. */
export async function check(opts: CheckOptions): Promise<CheckResult> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  const board = opts.board ? loadCatalog(opts.boardsFile ? { boardsFile: opts.boardsFile } : {}).get(opts.board) : null;
  const fw = opts.firmware ? readFirmwareFile(opts.firmware) : null;
  const given = fw ? { path: opts.firmware!, bytes: fw.bytes } : null;
  const run = async (): Promise<CheckReport> => {
    const dev = openTarget(opts.target, true);
    try {
      const report = await checkCard(dev, { board, firmware: given, target: opts.target, ...(opts.board ? { boardAs: opts.board } : {}) });
      if (dev instanceof RawDevice && dev.info.isPartition) {
        // Checking /dev/sdb1 sees the volume as if it had no partition table: say so.
        const whole = `/dev/${dev.info.diskName}`;
        report.findings = sortFindings([...report.findings, { id: 'target-is-partition', severity: 'warning', message: `${opts.target} is a partition of ${whole}: the partition table and what lies outside this partition were not checked`, ...advice`Check the whole card: ${checkRemedy(whole, { board: board?.name ?? null })}` }]);
      }
      return report;
    } finally {
      await dev.close();
    }
  };
  const first = await run();
  const fixable = first.findings.filter((f) => f.fix?.length);
  if (!opts.fix) return { ...first, target: opts.target, seconds: seconds() };
  if (fixable.length === 0 || !first.card.volume) return { ...first, target: opts.target, seconds: seconds(), fix: { applied: [], before: { ok: first.ok, findings: first.findings } } };
  const dev = openTarget(opts.target, false);
  let applied: FixOutcome[];
  try {
    applied = await applyFixes(dev, first.card.volume, fixable);
  } finally {
    await dev.close();
  }
  const after = await run();
  return { ...after, target: opts.target, seconds: seconds(), fix: { applied, before: { ok: first.ok, findings: first.findings } } };
}

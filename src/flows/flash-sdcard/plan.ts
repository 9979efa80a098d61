import type { SdCardFacts } from '../../sdcard/card-facts.js';
import { cardFolder, cardPath, needsUniqueName, planCardTarget } from '../card-name.js';
import type { Finding } from '../firmware-check.js';
import type { RepairSummary } from '../repair-card/summary.js';
import { TEMP_NAME } from '../install-firmware.js';
import type { Job } from './build.js';
import { verificationStrategy, type VerificationStrategy } from './verification.js';

/** What the run found on the MCU and its card before deciding anything. */
export interface Survey {
  device: string;
  mcu: string;
  /** What the MCU ran when we connected. */
  previousVersion: string | null;
  /** How the MCU reaches the card ("SPI (spi1)", "software SPI", "SDIO"). */
  bus: string;
  card: SdCardFacts;
  /** The files (not directories) in the board's firmware folder on the card. */
  files: string[];
  /** An interrupted update a writing run would undo first (read-only surveys only). */
  pendingUndo: string | null;
}

/** The upload, when there is one: where the firmware goes and under which names. */
export interface UploadPlan {
  /** Written and read back under this name first, so a cut never leaves a half file under the flashed name. */
  temporary: string;
  /** The name the bootloader looks for, given once the read-back matched. */
  path: string;
  /** The board needs a new name each flash (Creality 4.2.x flash-loop protection). */
  uniqueName: boolean;
  /** A file of that name is there now and is replaced. */
  replaces: boolean;
  /** Created first (the board's bootloader reads a folder). */
  folder: string | null;
}

/**
 * Everything a run will do, decided from the job and the survey before anything is written:
 * what `--dry-run` prints, and what the steps then carry out.
 */
export interface FlashPlan {
  mode: 'upload' | 'check';
  board: string;
  device: string;
  mcu: string;
  bus: string;
  previousVersion: string | null;
  firmware: { path: string; sha256: string; size: number; expectedVersion: string | null };
  card: SdCardFacts;
  /** The files in the firmware folder now. */
  files: string[];
  upload: UploadPlan | null;
  /** The firmware file on the card: the upload's final path, or (-c) the flashed file that is compared. */
  firmwarePath: string;
  /**
   * Files deleted: with an upload, the old firmware names of a unique-name board (after the
   * read-back); with -c, a firmware file still waiting under the flashed name (once verified).
   */
  removals: string[];
  /** What makes the bootloader flash the upload: a reset (then verified), or a power cycle (then -c). */
  after: 'reset' | 'power-cycle' | null;
  verification: VerificationStrategy;
  pendingUndo: string | null;
  findings: Finding[];
  /** --format: the card's repair (needed or not), before the upload; the files are then none. */
  repair?: RepairSummary;
}

/** The plan of a run: a pure function of what is known after connecting and reading the card. */
export function planFlash(job: Job, s: Survey, o: { mode: 'upload' | 'check'; now: Date }): FlashPlan {
  const { board } = job;
  const k = board.klipper!;
  const names = flashedNames(job, s.files);
  const planned = o.mode === 'upload' ? planUpload(job, s.files, o.now) : null;
  const upload = planned?.upload ?? null;
  const removals = planned ? planned.removals : names.leftover ? [names.leftover] : [];
  return {
    mode: o.mode,
    board: board.name,
    device: s.device,
    mcu: s.mcu,
    bus: s.bus,
    previousVersion: s.previousVersion,
    firmware: { path: job.firmwarePath, sha256: job.sha256, size: job.data.byteLength, expectedVersion: job.expectedVersion },
    card: s.card,
    files: s.files,
    upload,
    firmwarePath: upload?.path ?? names.curPath ?? cardPath(board, k.currentFirmwarePath),
    removals,
    after: upload ? (k.skipVerify ? 'power-cycle' : 'reset') : null,
    verification: verificationStrategy({ moment: upload ? 'after-flash' : 'check', deferred: !!k.skipVerify, expectedVersion: job.expectedVersion, previousVersion: s.previousVersion, flashedName: k.currentFirmwarePath }),
    pendingUndo: s.pendingUndo,
    findings: job.findings,
  };
}

/** Where the upload goes, by the board's naming rules (card-name.ts), as Klipper's script names it. */
function planUpload(job: Job, files: string[], now: Date): { upload: UploadPlan; removals: string[] } {
  const target = planCardTarget(job.board, { existing: files, now, follow: 'klipper' });
  const name = target.path.split('/').pop()!.toLowerCase();
  const folder = folderOf(job);
  return {
    upload: {
      temporary: `${folder ?? ''}/${TEMP_NAME}`,
      path: target.path,
      uniqueName: needsUniqueName(job.board),
      replaces: files.some((f) => f.toLowerCase() === name),
      folder,
    },
    removals: target.removes,
  };
}

/** The board's firmware folder on the card ("/STM32F4_UPDATE"), or null for the root. */
export function folderOf(job: Job): string | null {
  const folder = cardFolder(job.board);
  return folder === '/' ? null : folder;
}

/**
 * The bootloader's names among `files`: its renamed, flashed file (FIRMWARE.CUR, OLD.BIN, …),
 * and a firmware file still under the name it flashes (`uploadedPath`, default the board's),
 * which would be flashed again at every power-up.
 */
export function flashedNames(job: Job, files: string[], uploadedPath?: string): { curPath: string | null; leftover: string | null } {
  const { board } = job;
  const k = board.klipper!;
  const lower = new Map(files.map((n) => [n.toLowerCase(), n]));
  const curName = lower.get(k.currentFirmwarePath.toLowerCase());
  const flashedName = (uploadedPath ?? cardPath(board, k.firmwarePath)).split('/').pop()!.toLowerCase();
  const real = flashedName !== k.currentFirmwarePath.toLowerCase() ? lower.get(flashedName) : undefined;
  return { curPath: curName ? cardPath(board, curName) : null, leftover: real ? cardPath(board, real) : null };
}

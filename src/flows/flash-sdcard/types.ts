import type { UndoOutcome } from '../../fat/update-log.js';
import type { ProgressListener, Trace } from '../../progress.js';
import type { SdCardFacts } from '../../sdcard/card-facts.js';
import type { Finding } from '../firmware-check.js';
import type { TransportFactory } from './connect.js';
import type { Verification } from './verification.js';
import type { RepairOutcome } from '../repair-card/hook.js';
import type { RepairSummary } from '../repair-card/summary.js';

export type { Verification } from './verification.js';

export interface FlashSdcardOptions {
  device: string;
  board: string;
  baud?: number;
  firmware?: string;
  /** klipper.dict of the build; default ~/klipper/out/klipper.dict when it exists. */
  dictionary?: string;
  /** -c: only verify what the board runs / what is on its card; upload nothing. */
  checkOnly?: boolean;
  /** -s: 4 MHz SPI instead of 400 kHz. */
  fastSpi?: boolean;
  force?: boolean;
  boardsFile?: string;
  transport?: TransportFactory;
  connectTimeoutMs?: number;
  reconnectTimeoutMs?: number;
  onProgress?: ProgressListener;
  trace?: Trace;
  now?: Date;
  /**
   * Abort it to stop the run at its next safe point (the CLI: the first Ctrl-C): between steps
   * and between the card's file operations, never inside one FAT update; waits end at once. The
   * run then throws the usage error `interrupted` (exit 130) saying what the card holds.
   */
  signal?: AbortSignal;
  /**
   * --format: when the board's bootloader cannot read the card (exFAT, NTFS, GPT, …), re-create it
   * (a small FAT volume, see repair-card/) before the upload; a readable card is never touched.
   */
  format?: boolean;
  /** Show the repair and ask; false: not confirmed, nothing is written. Default: refuse. */
  confirmRepair?: (summary: RepairSummary) => Promise<boolean>;
}

export interface FlashSdcardResult {
  board: string;
  device: string;
  mcu: string;
  firmwarePath: string;
  sha256: string;
  firmwareSize: number;
  uploaded: boolean;
  verification: Verification;
  /** Version the MCU ran before. */
  previousVersion: string | null;
  /** Version it runs after verification (null when deferred). */
  version: string | null;
  card: SdCardFacts | null;
  removed: string[];
  /** The flash-loop guard deleted a firmware file the bootloader left behind. */
  leftoverDeleted: boolean;
  findings: Finding[];
  /** Upload + read-back, ms, and firmware bytes per second over that. */
  uploadMs: number;
  bytesPerSecond: number;
  durationMs: number;
  /** What to do next (deferred boards: the power cycle). */
  next: string | null;
  /** Serial traffic of the upload + read-back (for benchmarks and bug reports). */
  link: UploadLinkStats | null;
  /**
   * An update of the card's FAT that an earlier run left half-written (killed, host powered off,
   * board unplugged), found in the host's record: undone, or set aside when the card had changed.
   */
  interruptedUpdate: UndoOutcome;
  /** --format, or a repair an earlier run left unfinished: what became of the card (absent: nothing). */
  repair?: RepairOutcome;
}

export interface UploadLinkStats {
  bytesToMcu: number;
  bytesFromMcu: number;
  retransmits: number;
  /** SD-bus messages that waited for an answer (spi_transfer / sdio reads). */
  roundTrips: number;
  /** All SD-bus messages. */
  messages: number;
}

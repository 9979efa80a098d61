import { RemoteFatVolume } from '../../fat/remote-volume.js';
import { noProgress } from '../../progress.js';
import { acquireLock } from '../../util/lock.js';
import { checkMcu, loadJob } from './build.js';
import { closingAfter, surveyCard } from './card-session.js';
import { checkSteps } from './check-steps.js';
import { serialTransport } from './connect.js';
import { DEFAULT_BAUD, McuLink } from './link.js';
import { planFlash, type FlashPlan } from './plan.js';
import { cardSession, type Run } from './run.js';
import { StopPoints } from './stop.js';
import type { FlashSdcardOptions, FlashSdcardResult } from './types.js';
import { uploadSteps } from './upload-steps.js';
import { busLabel } from './card-bus.js';
import { SafetyError } from '../../errors.js';
import { cardRepairHook, RepairPlanned, type RepairOutcome } from '../repair-card/hook.js';

export { defaultDictionaryPath, defaultFirmwarePath } from './build.js';
export type { FlashPlan, UploadPlan } from './plan.js';
export type { FlashSdcardOptions, FlashSdcardResult, UploadLinkStats, Verification } from './types.js';
export type { VerificationStrategy } from './verification.js';

export { DEFAULT_BAUD } from './link.js';

/**
 * Klipper's flash-sdcard flow: connect, check the MCU, reset a configured MCU, drive the board's
 * SD card through the MCU, upload (temporary name, read back, rename), reset so the bootloader
 * flashes it, reconnect and verify — or stop after the upload on boards whose bootloader needs a
 * power cycle (SDIO), to be completed with -c.
 */
export async function flashSdcard(opts: FlashSdcardOptions): Promise<FlashSdcardResult> {
  let repaired: RepairOutcome | undefined;
  const result = await withRun(opts, (run) => (opts.checkOnly ? checkSteps(run) : uploadSteps(run)), { report: (r) => (repaired = r), dryRun: false });
  return repaired ? { ...result, repair: repaired } : result;
}

/**
 * --dry-run: connect, read the card and return the plan of the run, writing nothing to the
 * card (the device refuses writes; an interrupted update is reported, not undone). A configured
 * MCU is reset first, as the real run does: it will not take the SD bus's configuration otherwise.
 */
export async function planFlashSdcard(opts: FlashSdcardOptions): Promise<FlashPlan> {
  const mode = opts.checkOnly ? 'check' : 'upload';
  let repaired: RepairOutcome | undefined;
  const plan = await withRun(opts, async (run) => {
    try {
      return await cardSession(run, { needWrite: mode === 'upload', readOnly: true }, async (card) => {
        const survey = await surveyCard(run.link, run.job, card, { device: opts.device, previousVersion: run.previousVersion });
        return planFlash(run.job, survey, { mode, now: opts.now ?? new Date() });
      });
    } catch (e) {
      // --format on a card the bootloader cannot read: the plan is the repair, then the upload to the new, empty volume.
      if (!(e instanceof RepairPlanned)) throw e;
      const survey = { device: opts.device, mcu: run.link.mcu, previousVersion: run.previousVersion, bus: busLabel(run.job.board), card: e.facts, files: [], pendingUndo: null };
      return { ...planFlash(run.job, survey, { mode, now: opts.now ?? new Date() }), repair: e.summary };
    }
  }, { report: (r) => (repaired = r), dryRun: true });
  return repaired?.status === 'not-needed' ? { ...plan, repair: repaired.summary } : plan;
}

/** Check the build, lock the port, connect, check the MCU and have it ready for the SD bus; then `steps`; the link is always closed. */
async function withRun<T>(opts: FlashSdcardOptions, steps: (run: Run) => Promise<T>, o: { report: (r: RepairOutcome) => void; dryRun: boolean }): Promise<T> {
  const started = Date.now();
  const progress = opts.onProgress ?? noProgress;
  const job = loadJob(opts);
  const link = new McuLink({
    device: opts.device, baud: opts.baud ?? DEFAULT_BAUD, transport: opts.transport ?? serialTransport, connectTimeoutMs: opts.connectTimeoutMs ?? 60_000,
    reconnectTimeoutMs: opts.reconnectTimeoutMs ?? 30_000, onProgress: progress, ...(opts.trace ? { trace: opts.trace } : {}), ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const stop = new StopPoints(opts.signal, { device: opts.device, board: opts.board });
  stop.check('before connecting');
  const lock = acquireLock(opts.device, 'serial port');
  // The FatFs worker starts while the board is reached: the card's mount then need not wait for it.
  RemoteFatVolume.warm();
  try {
    return await closingAfter(async () => {
      await link.connect();
      stop.check('after connecting');
      checkMcu(job, link.mcu, opts.device);
      const previousVersion = link.version;
      await link.restartIfConfigured();
      const repair = opts.checkOnly ? undefined : cardRepairHook({
        board: job.board, format: !!opts.format, dryRun: o.dryRun, report: o.report, onProgress: progress, ...(opts.trace ? { trace: opts.trace } : {}),
        confirm: opts.confirmRepair ?? (() => Promise.reject(new SafetyError('confirmation-needed', 'refusing to re-create the card without confirmation', { hint: 'Pass --yes to confirm (see the plan with --dry-run first).' }))),
      });
      return steps({ opts, job, link, progress, started, previousVersion, stop, ...(repair ? { repair } : {}) });
    }, () => link.close());
  } catch (e) {
    // A wait the stop ended (connecting, the reconnect wait) rejects with the signal's reason.
    if (stop.requested && (e as Error)?.name === 'AbortError') {
      throw stop.error(stop.card.kind === 'reset' ? 'while waiting for the board to come back after the reset' : 'while connecting to the board', e);
    }
    throw e;
  } finally {
    lock.release();
  }
}

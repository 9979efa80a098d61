import type { UndoOutcome } from '../../fat/update-log.js';
import { listFolder, surveyCard } from './card-session.js';
import { cardFileMatches } from './check-steps.js';
import { flashedNames, planFlash, type FlashPlan, type UploadPlan } from './plan.js';
import { cardSession, type Run } from './run.js';
import type { FlashSdcardResult } from './types.js';
import { uploadToCard, type UploadOutcome } from './upload.js';
import { decideVerification, verificationError, type VerificationFacts } from './verification.js';

type Uploaded = { plan: FlashPlan & { upload: UploadPlan }; outcome: UploadOutcome; interrupted: UndoOutcome };

/**
 * Upload (temporary name, read back, rename), then let the bootloader flash it: a reset, after
 * which what runs and what the card holds are checked; or, on a board whose bootloader needs a
 * power cycle, stop there, to be completed with -c.
 */
export async function uploadSteps(run: Run): Promise<FlashSdcardResult> {
  run.stop.check('before the upload');
  const up = await upload(run);
  const { plan, outcome } = up;
  const base = {
    board: plan.board, device: plan.device, mcu: plan.mcu, firmwarePath: plan.upload.path, sha256: plan.firmware.sha256, firmwareSize: plan.firmware.size, uploaded: true,
    previousVersion: run.previousVersion, card: plan.card, removed: outcome.removed, findings: plan.findings, uploadMs: outcome.uploadMs, link: outcome.link,
    bytesPerSecond: outcome.uploadMs > 0 ? Math.round((plan.firmware.size * 1000) / outcome.uploadMs) : 0,
  };
  if (plan.after === 'power-cycle') {
    await run.link.close();
    return {
      ...base, verification: 'deferred', version: null, leftoverDeleted: false, durationMs: Date.now() - run.started, interruptedUpdate: up.interrupted,
      next: `This board's bootloader reads the card over SDIO, and the card stays in SPI mode until its power is cut: turn the printer fully off and on again (a reset is not enough), then run: fwcard flash-sdcard -c ${plan.device} ${plan.board}`,
    };
  }
  const after = await afterReset(run, up);
  return { ...base, verification: after.verification, version: after.version, leftoverDeleted: after.leftoverDeleted, durationMs: Date.now() - run.started, next: null, interruptedUpdate: after.interrupted };
}

async function upload(run: Run): Promise<Uploaded> {
  const { job, link, opts } = run;
  return cardSession(run, { needWrite: true }, async (card) => {
    const survey = await surveyCard(link, job, card, { device: opts.device, previousVersion: run.previousVersion });
    const plan = planFlash(job, survey, { mode: 'upload', now: opts.now ?? new Date() });
    if (!hasUpload(plan)) throw new Error('an upload plan without its upload');
    const snapshot = () => ({ serial: link.session.stats, bus: card.busCounters() });
    run.stop.check('before the upload');
    const outcome = await uploadToCard(card, plan, job.data, { snapshot, onProgress: run.progress, stop: run.stop });
    return { plan, outcome, interrupted: card.interrupted };
  });
}

function hasUpload(plan: FlashPlan): plan is Uploaded['plan'] {
  return plan.upload !== null;
}

/** Reset so the bootloader flashes the card; then see what runs and what the card holds. */
async function afterReset(run: Run, up: Uploaded): Promise<{ verification: FlashSdcardResult['verification']; version: string | null; leftoverDeleted: boolean; interrupted: UndoOutcome }> {
  const { job, link } = run;
  run.stop.check('before the reset');
  run.progress({ phase: 'reset', label: 'resetting the MCU so the bootloader flashes the card' });
  run.stop.enter({ kind: 'reset', path: up.plan.upload.path });
  await link.restart();
  const version = link.version;
  run.stop.check('before the check after flashing');
  await link.restartIfConfigured();
  run.stop.check('before the check after flashing');
  const seen = await cardSession(run, { needWrite: true }, async (card) => {
    const files = await listFolder(card, job);
    const names = flashedNames(job, files, up.plan.upload.path);
    const cardMatches = await cardFileMatches(card, names.curPath, job.sha256);
    // Klipper does the same: a file the bootloader did not rename would flash at every boot.
    if (names.leftover) await card.volume.unlink(names.leftover);
    return { cardMatches, curPath: names.curPath, leftoverDeleted: !!names.leftover, interrupted: up.interrupted.status === 'none' ? card.interrupted : up.interrupted };
  });
  await link.close();
  const facts: VerificationFacts = { expectedVersion: job.expectedVersion, previousVersion: run.previousVersion, runningVersion: version, cardMatches: seen.cardMatches };
  const decision = decideVerification(up.plan.verification.methods, facts);
  if (!decision.ok) {
    throw verificationError(decision.failure, { moment: 'after-flash', facts, what: job.firmwarePath, curName: job.board.klipper!.currentFirmwarePath, curOnCard: !!seen.curPath, leftoverDeleted: seen.leftoverDeleted });
  }
  return { verification: decision.verification, version, leftoverDeleted: seen.leftoverDeleted, interrupted: seen.interrupted };
}

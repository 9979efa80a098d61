import type { UndoOutcome } from '../../fat/update-log.js';
import { surveyCard } from './card-session.js';
import { flashedOnCard, needsReadBack } from './check-steps.js';
import { planFlash, type FlashPlan, type UploadPlan } from './plan.js';
import { cardSession, type Run } from './run.js';
import type { FlashSdcardResult } from './types.js';
import { DEFAULT_BAUD } from './link.js';
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
    // Klipper's script resets the MCU after every upload; here the bootloader cannot flash yet
    // (the card is in SPI mode), but the board is left unconfigured, as Klipper leaves it.
    await run.link.resetAndClose();
    return {
      ...base, verification: 'deferred', version: null, leftoverDeleted: false, durationMs: Date.now() - run.started, interruptedUpdate: up.interrupted,
      next: `This board's bootloader reads the card over SDIO, and the card stays in SPI mode until its power is cut: turn the printer fully off and on again (a reset is not enough), then run: ${checkCommand(run.opts, plan)}`,
    };
  }
  const after = await afterReset(run, up);
  return { ...base, verification: after.verification, version: after.version, leftoverDeleted: after.leftoverDeleted, durationMs: Date.now() - run.started, next: null, interruptedUpdate: after.interrupted };
}

/** The -c command that completes this run, with the options the user gave that -c needs too. */
export function checkCommand(opts: Run['opts'], plan: { device: string; board: string }): string {
  const args = ['fwcard', 'flash-sdcard', '-c'];
  if (opts.firmware) args.push('-f', opts.firmware);
  if (opts.dictionary) args.push('-d', opts.dictionary);
  if (opts.baud && opts.baud !== DEFAULT_BAUD) args.push('-b', String(opts.baud));
  if (opts.boardsFile) args.push('--boards-file', opts.boardsFile);
  args.push(plan.device, plan.board);
  return args.map(shellWord).join(' ');
}

/** A word as a POSIX shell reads it back: quoted only when it needs to be. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
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

/**
 * Reset so the bootloader flashes the card; then see what runs and what the card holds (its
 * renamed file read back only when no version proves the flash), and reset once more, as
 * Klipper's script ends, so the board is left unconfigured.
 */
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
  const known = { expectedVersion: job.expectedVersion, previousVersion: run.previousVersion, runningVersion: version };
  const { methods } = up.plan.verification;
  const seen = await cardSession(run, { needWrite: true }, async (card) => {
    const found = await flashedOnCard(run, card, { uploadedPath: up.plan.upload.path, readBack: needsReadBack(methods, known) });
    // Klipper does the same: a file the bootloader did not rename would flash at every boot.
    if (found.leftover) await card.volume.unlink(found.leftover);
    return { cardMatches: found.cardMatches, curPath: found.curPath, leftoverDeleted: !!found.leftover, interrupted: up.interrupted.status === 'none' ? card.interrupted : up.interrupted };
  });
  const facts: VerificationFacts = { ...known, cardMatches: seen.cardMatches };
  const decision = decideVerification(methods, facts);
  if (!decision.ok) {
    await link.close();
    throw verificationError(decision.failure, { moment: 'after-flash', facts, what: job.firmwarePath, curName: job.board.klipper!.currentFirmwarePath, curOnCard: !!seen.curPath, leftoverDeleted: seen.leftoverDeleted });
  }
  await link.resetAndClose();
  return { verification: decision.verification, version, leftoverDeleted: seen.leftoverDeleted, interrupted: seen.interrupted };
}

import { sha256 } from '../firmware-file.js';
import { surveyCard } from './card-session.js';
import { flashedNames, planFlash } from './plan.js';
import type { RemoteCard } from './remote-card.js';
import { cardSession, type Run } from './run.js';
import type { FlashSdcardResult } from './types.js';
import { decideVerification, verificationError, type VerificationFacts } from './verification.js';

/** Whether the file at `path` (null: none there) holds exactly the bytes of `digest`. */
export async function cardFileMatches(card: RemoteCard, path: string | null, digest: string): Promise<boolean> {
  if (!path) return false;
  card.readAhead((await card.volume.tryStat(path))?.size ?? 0);
  return sha256(await card.volume.readFile(path)) === digest;
}

/**
 * -c: verify what the board runs (by the dictionary's version) or what its card holds (the
 * bootloader's renamed file); upload nothing. Once confirmed, a firmware file still waiting
 * under the flashed name is deleted: it would flash again at every power-up.
 */
export async function checkSteps(run: Run): Promise<FlashSdcardResult> {
  const { job, link, opts } = run;
  const version = link.version;
  run.stop.check('before reading the card');
  return cardSession(run, { needWrite: false }, async (card) => {
    const survey = await surveyCard(link, job, card, { device: opts.device, previousVersion: run.previousVersion });
    const plan = planFlash(job, survey, { mode: 'check', now: opts.now ?? new Date() });
    const { curPath } = flashedNames(job, survey.files);
    const facts: VerificationFacts = { expectedVersion: job.expectedVersion, previousVersion: run.previousVersion, runningVersion: version, cardMatches: await cardFileMatches(card, curPath, job.sha256) };
    const decision = decideVerification(plan.verification.methods, facts);
    if (!decision.ok) {
      throw verificationError(decision.failure, { moment: 'check', facts, what: job.firmwarePath, curName: job.board.klipper!.currentFirmwarePath, curOnCard: !!curPath, leftoverDeleted: false });
    }
    for (const p of plan.removals) {
      run.stop.check(`before deleting ${p}`);
      await card.volume.unlink(p);
    }
    return {
      board: plan.board, device: opts.device, mcu: plan.mcu, firmwarePath: plan.firmwarePath, sha256: job.sha256, firmwareSize: job.data.byteLength,
      uploaded: false, verification: decision.verification, previousVersion: run.previousVersion, version, card: null, removed: [],
      leftoverDeleted: plan.removals.length > 0, findings: job.findings, uploadMs: 0, bytesPerSecond: 0, durationMs: Date.now() - run.started, next: null, link: null,
      interruptedUpdate: card.interrupted,
    };
  });
}

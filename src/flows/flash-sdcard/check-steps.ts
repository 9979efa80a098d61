import { sha256 } from '../firmware-file.js';
import { surveyCard } from './card-session.js';
import { flashedNames, folderOf, planFlash } from './plan.js';
import type { RemoteCard } from './remote-card.js';
import { cardSession, type Run } from './run.js';
import type { FlashSdcardResult } from './types.js';
import { decideVerification, verificationError, type Verification, type VerificationFacts } from './verification.js';

/** What the card shows of the bootloader's work: its renamed file, and a firmware file it left. */
export interface FlashedOnCard {
  /** The firmware folder's files. */
  files: string[];
  /** The bootloader's renamed file (FIRMWARE.CUR, …), or null. */
  curPath: string | null;
  /** Its size in the directory entry. */
  curSize: number | null;
  /** A firmware file still under the name the bootloader flashes, or null. */
  leftover: string | null;
  /** The renamed file holds the firmware: read back and compared, or (when not needed) the entry's size only. */
  cardMatches: boolean;
}

/**
 * Look at the card for what the bootloader did. The renamed file is read back only when
 * `readBack` says the verification needs its bytes (no version proves the flash); otherwise its
 * directory entry confirms the rename (there, with the firmware's size) at the cost of the
 * folder's listing, as Klipper's script reads FIRMWARE.CUR only when the version is unchanged.
 */
export async function flashedOnCard(run: Run, card: RemoteCard, o: { uploadedPath?: string; readBack: boolean }): Promise<FlashedOnCard> {
  const { job } = run;
  const dir = folderOf(job) ?? '/';
  const entries = dir !== '/' && !(await card.volume.tryStat(dir)) ? [] : (await card.volume.list(dir)).filter((e) => !e.isDir);
  const files = entries.map((e) => e.name);
  const { curPath, leftover } = flashedNames(job, files, o.uploadedPath);
  const curName = curPath?.split('/').pop();
  const curSize = entries.find((e) => e.name === curName)?.size ?? null;
  const size = job.data.byteLength;
  let cardMatches: boolean;
  if (o.readBack && curPath) {
    const label = `reading ${curPath} back to compare it with the firmware`;
    run.progress({ phase: 'verify', label, bytes: 0, total: curSize ?? 0 });
    card.readAhead(curSize ?? 0);
    cardMatches = sha256(await card.volume.readFile(curPath, (e) => run.progress({ ...e, phase: 'verify', label }))) === job.sha256;
  } else {
    cardMatches = !!curPath && curSize === size;
  }
  const renamed = curPath ? `the card holds ${curPath} (${curSize} bytes${curSize === size ? '' : `; the firmware has ${size}`})` : `no ${job.board.klipper!.currentFirmwarePath} on the card`;
  run.progress({ phase: 'verify', label: `${renamed}${leftover ? `, and ${leftover} was not renamed` : ''}`, done: true });
  return { files, curPath, curSize, leftover, cardMatches };
}

/** Whether the strategy can only be decided from the card's bytes: no version settles it. */
export function needsReadBack(methods: Verification[], facts: Omit<VerificationFacts, 'cardMatches'>): boolean {
  return methods.includes('checksum') && !decideVerification(methods, { ...facts, cardMatches: false }).ok;
}

/**
 * -c: verify what the board runs (by the dictionary's version) or what its card holds (the
 * bootloader's renamed file, read back only when no version decides); upload nothing. Once
 * confirmed, a firmware file still waiting under the flashed name is deleted (it would flash
 * again at every power-up) and the MCU is reset, as Klipper's script ends a check.
 */
export async function checkSteps(run: Run): Promise<FlashSdcardResult> {
  const { job, link, opts } = run;
  const version = link.version;
  run.stop.check('before reading the card');
  const result = await cardSession(run, { needWrite: false }, async (card) => {
    const survey = await surveyCard(link, job, card, { device: opts.device, previousVersion: run.previousVersion });
    const plan = planFlash(job, survey, { mode: 'check', now: opts.now ?? new Date() });
    const known = { expectedVersion: job.expectedVersion, previousVersion: run.previousVersion, runningVersion: version };
    const seen = await flashedOnCard(run, card, { readBack: needsReadBack(plan.verification.methods, known) });
    const facts: VerificationFacts = { ...known, cardMatches: seen.cardMatches };
    const decision = decideVerification(plan.verification.methods, facts);
    if (!decision.ok) {
      throw verificationError(decision.failure, { moment: 'check', facts, what: job.firmwarePath, curName: job.board.klipper!.currentFirmwarePath, curOnCard: !!seen.curPath, leftoverDeleted: false });
    }
    for (const p of plan.removals) {
      run.stop.check(`before deleting ${p}`);
      await card.volume.unlink(p);
    }
    return {
      board: plan.board, device: opts.device, mcu: plan.mcu, firmwarePath: plan.firmwarePath, sha256: job.sha256, firmwareSize: job.data.byteLength,
      uploaded: false, verification: decision.verification, previousVersion: run.previousVersion, version, card: null, removed: [],
      leftoverDeleted: plan.removals.length > 0, findings: job.findings, uploadMs: 0, bytesPerSecond: 0, durationMs: 0, next: null, link: null,
      interruptedUpdate: card.interrupted,
    } satisfies FlashSdcardResult;
  });
  await link.resetAndClose();
  return { ...result, durationMs: Date.now() - run.started };
}

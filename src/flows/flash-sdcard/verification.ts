import { VerifyError } from '../../errors.js';

/** How a flash (or, with -c, what the board runs) was confirmed. */
export type Verification = 'dictionary' | 'version-changed' | 'checksum' | 'deferred';

/** When the facts are gathered: after the reset that let the bootloader flash, or a -c check. */
export type VerifyMoment = 'after-flash' | 'check';

export interface VerificationStrategy {
  /** The ways that may confirm it, tried in this order; the first that holds decides. */
  methods: Verification[];
  /** Why these, in the user's words (what --dry-run prints). */
  reason: string;
}

/** What decides the strategy: known before anything is written. */
export interface StrategyFacts {
  moment: VerifyMoment;
  /** The board's bootloader reads the card only after a power cycle (SDIO): no check after a reset. */
  deferred: boolean;
  /** The version the build's dictionary names, or null without one. */
  expectedVersion: string | null;
  /** What the MCU runs before the update. */
  previousVersion: string | null;
  /** The name the bootloader gives a flashed file (FIRMWARE.CUR, …). */
  flashedName: string;
}

/** Which facts will confirm the flash, and why: a pure function of what is known up front. */
export function verificationStrategy(f: StrategyFacts): VerificationStrategy {
  if (f.moment === 'after-flash' && f.deferred) {
    return { methods: ['deferred'], reason: "this board's bootloader reads the card over SDIO, and the card stays in SPI mode until its power is cut: the upload is verified on the card, the flash with -c after a power cycle" };
  }
  if (f.expectedVersion) {
    return { methods: ['dictionary'], reason: `the build's dictionary names version ${f.expectedVersion}: the MCU must run it${f.moment === 'after-flash' ? ' after the reset' : ''}` };
  }
  if (f.moment === 'after-flash') {
    return { methods: ['version-changed', 'checksum'], reason: `no dictionary of the build: after the reset the MCU must run another version than ${f.previousVersion ?? '(unknown)'}, or ${f.flashedName} on the card must match the upload` };
  }
  return { methods: ['checksum'], reason: `no dictionary of the build: ${f.flashedName} on the card must match the firmware file` };
}

/** What was found once the bootloader had its chance (or at a -c check). */
export interface VerificationFacts {
  expectedVersion: string | null;
  previousVersion: string | null;
  runningVersion: string | null;
  /** The bootloader's renamed file on the card matches the firmware. */
  cardMatches: boolean;
}

export type VerificationDecision = { ok: true; verification: Verification } | { ok: false; failure: 'version-mismatch' | 'not-verified' };

/**
 * The one verification decision: the first method of the strategy whose fact holds. A running
 * version other than the dictionary's is final (the dictionary names what must run).
 */
export function decideVerification(methods: Verification[], f: VerificationFacts): VerificationDecision {
  for (const m of methods) {
    if (m === 'deferred') return { ok: true, verification: m };
    if (m === 'dictionary') return f.runningVersion === f.expectedVersion ? { ok: true, verification: m } : { ok: false, failure: 'version-mismatch' };
    if (m === 'version-changed' && f.runningVersion && f.previousVersion && f.runningVersion !== f.previousVersion) return { ok: true, verification: m };
    if (m === 'checksum' && f.cardMatches) return { ok: true, verification: m };
  }
  return { ok: false, failure: 'not-verified' };
}

/** The error a failed decision becomes, with the hint for the moment it failed at. */
export function verificationError(failure: 'version-mismatch' | 'not-verified', c: { moment: VerifyMoment; facts: VerificationFacts; what: string; curName: string; curOnCard: boolean; leftoverDeleted: boolean }): VerifyError {
  const f = c.facts;
  if (failure === 'version-mismatch') {
    return new VerifyError('version-mismatch', `Version Mismatch: Got '${f.runningVersion}', expected '${f.expectedVersion}'`, {
      hint: c.moment === 'check'
        ? 'The board still runs the old firmware. Turn the printer fully off and on (SDIO boards need a real power cycle), then run with -c again.'
        : 'The bootloader did not flash the new firmware. Check the board name (file name on the card) and the build offset, then try again.',
      details: c.moment === 'check' ? { running: f.runningVersion, expected: f.expectedVersion } : { running: f.runningVersion, expected: f.expectedVersion, leftoverDeleted: c.leftoverDeleted },
    });
  }
  if (c.moment === 'check') {
    return new VerifyError('verify-failed', `could not verify: no ${c.curName} matching ${c.what} on the card${c.curOnCard ? ' (it holds a different firmware)' : ''}`, {
      hint: 'Power-cycle the board so its bootloader flashes the uploaded file, then run -c again; pass -d out/klipper.dict to verify by version.',
    });
  }
  return new VerifyError('verify-failed', `could not verify the flash: the MCU runs the same version (${f.runningVersion}) and no ${c.curName} matching the upload was found`, {
    hint: 'The bootloader did not take the file. Check the board name and the firmware offset (`fwcard inspect`), or power-cycle the board and run with -c.',
  });
}

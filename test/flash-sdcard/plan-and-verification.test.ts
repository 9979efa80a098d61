import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import type { Job } from '../../src/flows/flash-sdcard/build.js';
import { needsReadBack } from '../../src/flows/flash-sdcard/check-steps.js';
import { linkTraffic } from '../../src/flows/flash-sdcard/link-stats.js';
import { planFlash, type Survey } from '../../src/flows/flash-sdcard/plan.js';
import { decideVerification, verificationError, verificationStrategy, type VerificationFacts } from '../../src/flows/flash-sdcard/verification.js';
import type { SdCardFacts } from '../../src/sdcard/card-facts.js';

// The pure parts of flash-sdcard: the plan, the one verification decision, the link traffic.
const catalog = loadCatalog({ noUserConfig: true });
const facts = (f: Partial<VerificationFacts>): VerificationFacts => ({ expectedVersion: null, previousVersion: 'v1', runningVersion: 'v1', cardMatches: false, ...f });

describe('verificationStrategy', () => {
  const base = { deferred: false, expectedVersion: null, previousVersion: 'v1', flashedName: 'FIRMWARE.CUR' };
  it('after a flash: deferred for a power-cycle board, else the dictionary, else a version change or the checksum', () => {
    expect(verificationStrategy({ ...base, moment: 'after-flash', deferred: true, expectedVersion: 'v2' }).methods).toEqual(['deferred']);
    expect(verificationStrategy({ ...base, moment: 'after-flash', expectedVersion: 'v2' }).methods).toEqual(['dictionary']);
    const none = verificationStrategy({ ...base, moment: 'after-flash' });
    expect(none.methods).toEqual(['version-changed', 'checksum']);
    expect(none.reason).toMatch(/another version than v1.*FIRMWARE\.CUR/);
  });
  it('-c: the dictionary, else the checksum; never deferred (that is what -c completes)', () => {
    expect(verificationStrategy({ ...base, moment: 'check', deferred: true, expectedVersion: 'v2' }).methods).toEqual(['dictionary']);
    expect(verificationStrategy({ ...base, moment: 'check', deferred: true }).methods).toEqual(['checksum']);
  });
});

describe('decideVerification', () => {
  it('dictionary: the running version must be the expected one, and a mismatch is final even if the card matches', () => {
    expect(decideVerification(['dictionary'], facts({ expectedVersion: 'v2', runningVersion: 'v2' }))).toEqual({ ok: true, verification: 'dictionary' });
    expect(decideVerification(['dictionary'], facts({ expectedVersion: 'v2', runningVersion: 'v1', cardMatches: true }))).toEqual({ ok: false, failure: 'version-mismatch' });
  });
  it('version-changed before checksum; the checksum when the version stayed; nothing: not verified', () => {
    const m = ['version-changed', 'checksum'] as const;
    expect(decideVerification([...m], facts({ runningVersion: 'v2', cardMatches: true }))).toEqual({ ok: true, verification: 'version-changed' });
    expect(decideVerification([...m], facts({ cardMatches: true }))).toEqual({ ok: true, verification: 'checksum' });
    expect(decideVerification([...m], facts({ previousVersion: null, runningVersion: 'v2', cardMatches: false }))).toEqual({ ok: false, failure: 'not-verified' });
    expect(decideVerification([...m], facts({}))).toEqual({ ok: false, failure: 'not-verified' });
  });
  it('deferred needs no facts', () => {
    expect(decideVerification(['deferred'], facts({}))).toEqual({ ok: true, verification: 'deferred' });
  });
  it('the errors keep their codes, and their hints say what fits the moment', () => {
    const c = { facts: facts({ expectedVersion: 'v2' }), what: 'k.bin', curName: 'FIRMWARE.CUR', curOnCard: true, leftoverDeleted: true };
    const check = verificationError('version-mismatch', { ...c, moment: 'check' });
    expect(check.code).toBe('version-mismatch');
    expect(check.hint).toMatch(/power cycle/);
    expect(check.details).toEqual({ running: 'v1', expected: 'v2' });
    const flash = verificationError('version-mismatch', { ...c, moment: 'after-flash' });
    expect(flash.details).toEqual({ running: 'v1', expected: 'v2', leftoverDeleted: true });
    expect(verificationError('not-verified', { ...c, moment: 'check' }).message).toMatch(/no FIRMWARE\.CUR matching k\.bin on the card \(it holds a different firmware\)/);
    expect(verificationError('not-verified', { ...c, moment: 'after-flash' }).code).toBe('verify-failed');
  });
});

describe('linkTraffic', () => {
  it('differences of typed counters; null without serial statistics', () => {
    const a = { serial: { bytesWritten: 10, bytesRead: 20, retransmits: 1 }, bus: { answered: 5, unanswered: 7 } };
    const b = { serial: { bytesWritten: 110, bytesRead: 320, retransmits: 3 }, bus: { answered: 9, unanswered: 17 } };
    expect(linkTraffic(a, b)).toEqual({ bytesToMcu: 100, bytesFromMcu: 300, retransmits: 2, roundTrips: 4, messages: 14 });
    expect(linkTraffic({ ...a, serial: undefined }, b)).toBeNull();
  });
});

describe('planFlash', () => {
  const card = { bus: 'spi', type: 'SDHC' } as unknown as SdCardFacts;
  const job = (board: string, expectedVersion: string | null = 'v2'): Job => ({ board: catalog.get(board), firmwarePath: '/tmp/klipper.bin', data: new Uint8Array(100), sha256: 'ab'.repeat(32), findings: [], buildMcu: null, expectedVersion });
  const survey = (files: string[]): Survey => ({ device: '/dev/ttyX', mcu: 'lpc1768', previousVersion: 'v1', bus: 'SPI (ssp0)', card, files, pendingUndo: null });
  const now = new Date('2026-12-01T00:00:00Z');

  it('an SPI board: temporary name, the fixed name (replacing the one there), reset, verified by dictionary', () => {
    const p = planFlash(job('btt-skr-v1.3'), survey(['firmware.bin', 'FIRMWARE.CUR']), { mode: 'upload', now });
    expect(p.upload).toEqual({ temporary: '/FWCARD.TMP', path: '/firmware.bin', uniqueName: false, replaces: true, folder: null });
    expect(p.removals).toEqual([]);
    expect(p.after).toBe('reset');
    expect(p.verification.methods).toEqual(['dictionary']);
  });
  it('a unique-name board: a fresh name and every other .bin removed', () => {
    const p = planFlash(job('creality-v4.2.2'), survey(['fw000001.bin', 'OLD.BIN', 'notes.txt']), { mode: 'upload', now });
    expect(p.upload?.uniqueName).toBe(true);
    expect(p.upload?.path).toMatch(/^\/fw[0-9a-z]{6}\.bin$/);
    expect(p.removals).toEqual(['/fw000001.bin', '/OLD.BIN']);
  });
  it('a power-cycle board: no check after the upload', () => {
    const p = planFlash(job('btt-octopus-f446-v1'), survey([]), { mode: 'upload', now });
    expect(p.after).toBe('power-cycle');
    expect(p.verification.methods).toEqual(['deferred']);
  });
  it('-c: no upload; the flashed file is compared, a waiting firmware file is deleted once verified', () => {
    const p = planFlash(job('btt-skr-v1.3', null), survey(['FIRMWARE.CUR', 'FIRMWARE.BIN']), { mode: 'check', now });
    expect(p.upload).toBeNull();
    expect(p.firmwarePath).toBe('/FIRMWARE.CUR');
    expect(p.removals).toEqual(['/FIRMWARE.BIN']);
    expect(p.verification.methods).toEqual(['checksum']);
  });
});

describe('needsReadBack: FIRMWARE.CUR is read back only when no version decides (Klipper verify_flash)', () => {
  const known = (f: Partial<VerificationFacts>) => {
    const { cardMatches: _, ...rest } = facts(f);
    return rest;
  };
  it('the dictionary decides either way: never read back', () => {
    expect(needsReadBack(['dictionary'], known({ expectedVersion: 'v2', runningVersion: 'v2' }))).toBe(false);
    expect(needsReadBack(['dictionary'], known({ expectedVersion: 'v2', runningVersion: 'v1' }))).toBe(false);
  });
  it('without a dictionary: not when the version changed, else yes', () => {
    expect(needsReadBack(['version-changed', 'checksum'], known({ previousVersion: 'v1', runningVersion: 'v2' }))).toBe(false);
    expect(needsReadBack(['version-changed', 'checksum'], known({ previousVersion: 'v1', runningVersion: 'v1' }))).toBe(true);
    expect(needsReadBack(['checksum'], known({}))).toBe(true);
  });
  it('a deferred board: nothing to read', () => {
    expect(needsReadBack(['deferred'], known({}))).toBe(false);
  });
});

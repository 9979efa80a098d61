import { createHash } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { IoError } from '../../errors.js';
import { removeDurably, stateDir, writeDurably } from '../../util/state-dir.js';
import type { RepairPhase, RepairWrite } from './writes.js';

/**
 * The host's record of a card repair in progress, kept like the FAT update record
 * (fat/update-log.ts): written to a temporary name, fsync'ed and renamed before the first sector
 * goes to the card, removed once the last one is on it. It holds every write of the repair (zeros
 * as ranges, the few other sectors whole: a few KiB) and what the card's deciding sectors held
 * before (their hashes), so that a later run knows what it finds:
 * - sector 0 is the new MBR: the volume is complete; only the clean-up after it may be missing;
 * - sector 0 and the other deciding sectors are as before: nothing a reader sees has changed;
 *   the repair is written again from the start (every write has fixed contents);
 * - anything else: the card was changed by someone else since; the record is set aside, untouched.
 */
export interface RepairIdentity {
  /** The card's CID (hex) behind an MCU; the image's path for an image file. */
  card: string;
  sectors: number;
}

export interface RepairRecord extends RepairIdentity {
  started: string;
  pid: number;
  /** sha256 of sectors that decide what the card reads as, before the repair. */
  before: { lba: number; sha256: string }[];
  writes: RepairWrite[];
}

const FORMAT = 'fwcard-repair/1' as const;

interface RecordJson extends Omit<RepairRecord, 'writes'> {
  format: typeof FORMAT;
  writes: { phase: RepairPhase; lba: number; count: number; data: string | null; what: string }[];
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The record of the card `card`: one file per card, next to the FAT update records. */
export function repairRecordPath(card: string): string {
  return join(stateDir('repairs'), `${card.replace(/[^0-9a-zA-Z]/g, '').slice(-64) || 'unknown-card'}.json`);
}

export function writeRecord(path: string, rec: RepairRecord): void {
  const json: RecordJson = {
    ...rec,
    format: FORMAT,
    writes: rec.writes.map((w) => ({ ...w, data: w.data ? Buffer.from(w.data).toString('base64') : null })),
  };
  try {
    writeDurably(path, JSON.stringify(json));
  } catch (e) {
    throw new IoError('repair-record-unwritable', `cannot record the card repair in ${path}: ${(e as Error).message}`, {
      hint: 'fwcard keeps a record of a card repair on this computer so that an interrupted run can be completed; nothing was written to the card. Free some space there, or point FWCARD_STATE_DIR at a writable directory.',
      cause: e,
    });
  }
}

/** The record at `path`; null when there is none; 'unreadable' when it is not one of ours. */
export function readRecord(path: string): RepairRecord | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const j = JSON.parse(text) as RecordJson;
    if (j.format !== FORMAT || !Array.isArray(j.writes) || !Array.isArray(j.before)) return 'unreadable';
    return { card: j.card, sectors: j.sectors, started: j.started, pid: j.pid, before: j.before, writes: j.writes.map((w) => ({ ...w, data: w.data === null ? null : new Uint8Array(Buffer.from(w.data, 'base64')) })) };
  } catch {
    return 'unreadable';
  }
}

export function removeRecord(path: string): void {
  removeDurably(path);
}

/** Rename a record that does not fit the card any more; kept for a bug report. */
export function setAside(path: string): string {
  const keptAt = join(dirname(path), `${basename(path, '.json')}.stale-${Date.now()}.json`);
  renameSync(path, keptAt);
  return keptAt;
}

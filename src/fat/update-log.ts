import { createHash } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { BlockDevice } from '../disk/block-device.js';
import { IoError } from '../errors.js';
import { FatInspector, type DirectoryRead } from './inspect/volume.js';
import { stateDir, writeDurably } from '../util/state-dir.js';

/**
 * A record of the FAT update being written, kept on the host, so that the next run can undo an
 * update that stopped half-way. Why: one FatFs update touches several sectors (the FAT, its
 * mirror, a directory entry, FSInfo) and FAT has no journal; a host killed, powered off or
 * unplugged between those writes leaves an unowned chain ("lost clusters"), FATs that differ, or
 * two entries over one chain. A full FAT scan finds such leftovers but costs minutes over a
 * serial link; the record names the few sectors involved, before and after.
 *
 * The record is written (and fsync'ed) before the first metadata sector of an update goes to the
 * card and removed once the last one is on it. Undoing puts back the sectors of the update that
 * reached the card (see planUndo); when one of them was changed by someone else since (the board's
 * bootloader flashing and renaming a file), nothing is written and the record is set aside: the
 * card keeps what the order of the writes made harmless (lost clusters, space only).
 */
export type SectorRole = 'fat' | 'fsinfo' | 'other';

export interface LoggedSector {
  /** In sectors of the volume (the partition's first sector is 0). */
  lba: number;
  role: SectorRole;
  before: Uint8Array;
  after: Uint8Array;
}

/** What MetadataBuffer tells its record keeper around one commit. */
export interface UpdateLog {
  /** Must be durable when it returns: the commit's writes follow at once. */
  begin(sectors: LoggedSector[], firstSector: Uint8Array): void;
  /** The commit's last write is on the card. */
  end(): void;
}

/** Which volume a record belongs to. */
export interface VolumeIdentity {
  /** The card's CID (hex), unique per card. */
  card: string;
  /** Where the FAT volume starts on the card. */
  partitionStart: number;
}

/** One update as recorded: the volume it belongs to and its sectors, in the order written. */
export interface UpdateRecord extends VolumeIdentity {
  /** sha256 of the volume's first sector (boot sector): changes when the card is formatted again. */
  boot: string;
  started: string;
  pid: number;
  sectors: LoggedSector[];
}

export function makeRecord(identity: VolumeIdentity, sectors: LoggedSector[], firstSector: Uint8Array): UpdateRecord {
  return { card: identity.card, partitionStart: identity.partitionStart, boot: sha256(firstSector), started: new Date().toISOString(), pid: process.pid, sectors };
}

interface RecordJson extends Omit<UpdateRecord, 'sectors'> {
  format: typeof FORMAT;
  sectors: { lba: number; role: SectorRole; before: string; after: string }[];
}

const FORMAT = 'fwcard-update/1' as const;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The record of the card with CID `card` (hex): one file per card. */
export function updateLogPath(card: string): string {
  return join(stateDir('updates'), `${card.replace(/[^0-9a-zA-Z]/g, '').slice(0, 64) || 'unknown-card'}.json`);
}

/** The record kept in a file (written to a temporary name, fsync'ed, renamed, directory fsync'ed). */
export class UpdateLogFile implements UpdateLog {
  constructor(readonly path: string, private readonly identity: VolumeIdentity) {}

  begin(sectors: LoggedSector[], firstSector: Uint8Array): void {
    const rec = makeRecord(this.identity, sectors, firstSector);
    const record: RecordJson = {
      ...rec,
      format: FORMAT,
      sectors: sectors.map((s) => ({ lba: s.lba, role: s.role, before: Buffer.from(s.before).toString('base64'), after: Buffer.from(s.after).toString('base64') })),
    };
    try {
      writeDurably(this.path, JSON.stringify(record));
    } catch (e) {
      // Nothing of the update has been written yet: it is refused whole.
      throw new IoError('update-log-unwritable', `cannot record the card update in ${this.path}: ${(e as Error).message}`, {
        hint: 'fwcard keeps a record of each card update on the host so that an interrupted run can be undone. Free some space there, or point FWCARD_STATE_DIR at a writable directory.',
        cause: e,
      });
    }
  }

  end(): void {
    try {
      unlinkSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/** The 32-byte pieces (directory entries; 8 or 16 FAT entries) in which an update changed bytes. */
function changedPieces(before: Uint8Array, after: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at < before.length; at += 32) {
    for (let i = at; i < at + 32; i++) {
      if (before[i] !== after[i]) {
        out.push(at);
        break;
      }
    }
  }
  return out;
}

function pieceIs(a: Uint8Array, b: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 32; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Deleting (only) a *.BIN file's entries: what a bootloader does itself when it flashes a file and
 * renames it (the old entry marked deleted, the new name elsewhere), byte for byte.
 */
function deletesFirmwareName(s: LoggedSector, pieces: number[]): boolean {
  let bin = false;
  for (const at of pieces) {
    const was = s.before[at]!;
    if (was === 0 || was === 0xe5 || s.after[at] !== 0xe5) return false;
    for (let i = at + 1; i < at + 32; i++) if (s.before[i] !== s.after[i]) return false;
    const ext = String.fromCharCode(s.before[at + 8]!, s.before[at + 9]!, s.before[at + 10]!);
    if (s.before[at + 11] !== 0x0f && ext === 'BIN') bin = true;
  }
  return bin;
}

/** What planUndo decided: the sectors to write back, in the update's order. */
export interface UndoPlan {
  ok: true;
  writes: { lba: number; data: Uint8Array }[];
  /**
   * The last write that landed deleted a firmware file's entries (first clusters listed): ours,
   * or a bootloader's that renamed the file. Undo it only when no live entry in its directory
   * owns those clusters (see undoUpdate).
   */
  unproven: { lba: number; firstClusters: number[] } | null;
}

/**
 * Which sectors to put back, given what the card holds now (`current[i]` for `sectors[i]`), or
 * why not. An update's sectors reach the card in the recorded order, each write after the one
 * before it succeeded (MetadataBuffer), so what landed is a prefix of the list. Each sector is
 * judged by the 32-byte pieces the update changed in it (someone else may have changed others
 * since: the board's bootloader renaming a file in the same directory sector):
 * - all pieces new: it landed, and gets the old pieces back (the rest of it is kept);
 * - all pieces old: it did not, and nothing after it did either: those are left as they are;
 * - anything else (a piece changed by someone else since, maybe after our write landed) cannot
 *   be undone safely: nothing is undone.
 * One write of ours cannot be told from someone else's by its bytes: deleting a firmware file's
 * entry is what a bootloader does when it flashes and renames the file. When that is the last
 * write that landed (no later one proves it ours), it is `unproven`, and undone only if nothing
 * else in the directory now owns the file's chain: undoing a bootloader's rename would give two
 * names one chain.
 * FSInfo is only a hint and is written first as "free count unknown": once touched, its free
 * count and next-free hint are set to unknown (0xFFFFFFFF, recounted by FatFs, accepted by
 * fsck.fat), the rest of it kept.
 */
export function planUndo(sectors: LoggedSector[], current: Uint8Array[]): UndoPlan | { ok: false; sector: LoggedSector } {
  const hints: { lba: number; data: Uint8Array }[] = [];
  const landed: { lba: number; data: Uint8Array; deletesFirmware: boolean }[] = [];
  for (let i = 0; i < sectors.length; i++) {
    const s = sectors[i]!;
    const now = current[i]!;
    if (s.role === 'fsinfo') {
      if (pieceEqual(now, s.before)) continue;
      const data = now.slice();
      data.fill(0xff, 488, 496);
      if (!pieceEqual(data, now)) hints.push({ lba: s.lba, data });
      continue;
    }
    const pieces = changedPieces(s.before, s.after);
    if (!pieces.length) continue;
    if (pieces.every((at) => pieceIs(now, s.after, at))) {
      const data = now.slice();
      for (const at of pieces) data.set(s.before.subarray(at, at + 32), at);
      landed.push({ lba: s.lba, data, deletesFirmware: s.role === 'other' && deletesFirmwareName(s, pieces) });
      continue;
    }
    if (!pieces.every((at) => pieceIs(now, s.before, at))) return { ok: false, sector: s };
    // Not landed: neither did anything after it (FSInfo, written first, was seen above).
    break;
  }
  const last = landed[landed.length - 1];
  const unproven = last?.deletesFirmware ? { lba: last.lba, firstClusters: firstClustersDeleted(sectors.find((x) => x.lba === last.lba)!) } : null;
  return { ok: true, writes: [...hints, ...landed].map(({ lba, data }) => ({ lba, data })), unproven };
}

/** First clusters of the 8.3 entries an update deleted in `s` (FAT32's high half included). */
function firstClustersDeleted(s: LoggedSector): number[] {
  const out: number[] = [];
  for (const at of changedPieces(s.before, s.after)) {
    if (s.before[at + 11] === 0x0f) continue;
    const b = s.before;
    out.push((b[at + 26]! | (b[at + 27]! << 8) | (b[at + 20]! << 16) | (b[at + 21]! << 24)) >>> 0);
  }
  return out;
}

/**
 * Does a live entry in the directory that holds volume sector `lba` start at one of `clusters`?
 * (Then a deletion there was a rename by someone else, and undoing it would give two names one
 * chain.) Unknown counts as yes: leaving a deletion alone costs lost clusters at worst.
 */
async function ownedInDirectory(dev: BlockDevice, lba: number, clusters: number[]): Promise<boolean> {
  const v = await FatInspector.open(dev, 0, dev.sectorCount);
  if (!(v instanceof FatInspector)) return true;
  const b = v.boot;
  let dir: DirectoryRead | null = null;
  if (!b.fat32 && lba >= b.rootDirStart && lba < b.rootDirStart + b.rootDirSectors) {
    dir = await v.readDirectory(0, '/');
  } else {
    // A subdirectory (or FAT32's root): find the directory whose chain holds the sector, among
    // the few a firmware card has.
    const cluster = Math.floor((lba - b.dataStart) / b.sectorsPerCluster) + 2;
    const queue: [number, string][] = [[0, '/']];
    for (let seen = 0; queue.length && seen < 64 && !dir; seen++) {
      const [first, path] = queue.shift()!;
      const d = await v.readDirectory(first, path);
      if (d.clusters.includes(cluster)) dir = d;
      for (const e of d.entries) if (e.isDir && !e.name.startsWith('.') && e.firstCluster) queue.push([e.firstCluster, `${path}${e.name}/`]);
    }
  }
  if (!dir) return true;
  return dir.entries.some((e) => !e.isVolumeLabel && clusters.includes(e.firstCluster));
}

function pieceEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export type UndoOutcome =
  | { status: 'none' }
  /** `written` sectors put back (0: the update had not reached the card). */
  | { status: 'undone'; started: string; sectors: number; written: number }
  /** The record does not fit the card any more; nothing was written, the record was moved to `keptAt`. */
  | { status: 'stale'; started: string | null; reason: string; keptAt: string };

/**
 * Undo the update recorded at `path` on the volume `dev` (sector 0 = the volume's first sector),
 * if one was left half-written, and remove the record; set the record aside (renamed, kept for a
 * bug report) when it does not fit the card.
 */
export async function undoInterruptedUpdate(dev: BlockDevice, path: string, identity: VolumeIdentity): Promise<UndoOutcome> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'none' };
    throw e;
  }
  let rec: UpdateRecord;
  try {
    const json = JSON.parse(text) as RecordJson;
    if (json.format !== FORMAT || !Array.isArray(json.sectors)) throw new Error('format');
    rec = { ...json, sectors: json.sectors.map((s) => ({ lba: s.lba, role: s.role, before: new Uint8Array(Buffer.from(s.before, 'base64')), after: new Uint8Array(Buffer.from(s.after, 'base64')) })) };
  } catch {
    return setAside(path, null, 'the record is not readable (written by another fwcard version, or damaged)');
  }
  const r = await undoUpdate(dev, rec, identity);
  if (!r.ok) return setAside(path, rec.started, r.reason);
  unlinkSync(path);
  return { status: 'undone', started: rec.started, sectors: rec.sectors.length, written: r.written };
}

/**
 * Undo `rec` on `dev` when it fits: the same card and volume, and every sector still holding the
 * update's old or new bytes. Reads every recorded sector before writing any, then writes them
 * back in the reverse order of the update, so an undo cut off in turn leaves a state the record
 * still describes (the next run finishes it).
 */
export async function undoUpdate(dev: BlockDevice, rec: UpdateRecord, identity: VolumeIdentity): Promise<{ ok: true; written: number } | { ok: false; reason: string }> {
  if (rec.card !== identity.card || rec.partitionStart !== identity.partitionStart) {
    return { ok: false, reason: `the record is for the volume at sector ${rec.partitionStart} of card ${rec.card}, this is sector ${identity.partitionStart} of card ${identity.card}` };
  }
  if (sha256(await dev.read(0, 1)) !== rec.boot) return { ok: false, reason: 'the card was formatted again since (its boot sector changed)' };
  const ss = dev.sectorSize;
  const current: Uint8Array[] = [];
  for (const s of rec.sectors) {
    if (s.before.length !== ss || s.after.length !== ss || !Number.isInteger(s.lba) || s.lba < 1 || s.lba >= dev.sectorCount) {
      return { ok: false, reason: `the record names sector ${s.lba} wrongly for this volume` };
    }
    current.push(await dev.read(s.lba, 1));
  }
  const plan = planUndo(rec.sectors, current);
  if (!plan.ok) return { ok: false, reason: `sector ${plan.sector.lba} (${plan.sector.role === 'fat' ? 'FAT' : 'directory'}) was changed by something else since the update` };
  let writes = plan.writes;
  if (plan.unproven && (await ownedInDirectory(dev, plan.unproven.lba, plan.unproven.firstClusters))) {
    const drop = plan.unproven.lba;
    writes = writes.filter((w) => w.lba !== drop);
  }
  for (const p of writes.reverse()) await dev.write(p.lba, p.data);
  await dev.flush();
  return { ok: true, written: writes.length };
}

function setAside(path: string, started: string | null, reason: string): UndoOutcome {
  const keptAt = join(dirname(path), `${basename(path, '.json')}.stale-${Date.now()}.json`);
  renameSync(path, keptAt);
  return { status: 'stale', started, reason, keptAt };
}

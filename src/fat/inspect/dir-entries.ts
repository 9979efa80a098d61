/**
 * Directory entries read raw: 8.3 entries, long-file-name (LFN) entries and what goes wrong
 * between them. Layout and the LFN checksum are from Microsoft's FAT specification ("FAT
 * Directory Structure", "FAT Long Directory Entries"); the rules for attaching a run of LFN
 * entries to the 8.3 entry that follows it (order numbers counting down to 1, the same
 * checksum in every part, checksum = f(8.3 name)) are the ones FatFs and fsck.fat apply.
 */
export const ATTR_READ_ONLY = 0x01;
export const ATTR_HIDDEN = 0x02;
export const ATTR_SYSTEM = 0x04;
export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
export const ATTR_LONG_NAME = 0x0f;
/** NT reserved byte: Windows NT and FatFs store "base/extension in lower case" here instead of an LFN. */
export const NT_LOWER_BASE = 0x08;
export const NT_LOWER_EXT = 0x10;

/** Where a 32-byte slot lives: volume sector and byte offset inside it. */
export interface SlotAddress {
  sector: number;
  offset: number;
}

export interface DirEntry {
  /** Long name when a valid LFN run is attached, else the 8.3 name as displayed. */
  name: string;
  longName: string | null;
  /** 8.3 name as stored, "BASE.EXT" upper case (no NT case flags applied). */
  shortName: string;
  /** 8.3 name with the NT lower-case flags applied (what FatFs shows without an LFN). */
  shortDisplay: string;
  /** The 11 raw name bytes. */
  rawName: Uint8Array;
  attr: number;
  isDir: boolean;
  isVolumeLabel: boolean;
  firstCluster: number;
  size: number;
  /** Slots of this entry: the LFN parts (in order on disk) then the 8.3 slot. */
  slots: SlotAddress[];
}

export type LfnProblem = 'checksum' | 'sequence' | 'no-short-entry' | 'deleted-short-entry' | 'before-volume-label';

export interface OrphanLfn {
  /** The part of the long name these slots spell (may be partial). */
  text: string;
  problem: LfnProblem;
  /** The 8.3 entry the run sat in front of, when there was one. */
  shortName: string | null;
  slots: SlotAddress[];
}

export interface DirListing {
  entries: DirEntry[];
  orphans: OrphanLfn[];
  /** Live 8.3 entries whose bytes make no sense (bad cluster, bad name). */
  invalid: { name: string; reason: string; slot: SlotAddress }[];
  /** Slots scanned up to the end marker. */
  slotsScanned: number;
  /** True when a 0x00 end-of-directory marker was found. */
  endMarker: boolean;
}

/** The LFN checksum of an 11-byte 8.3 name (rotate right, add). */
export function lfnChecksum(name11: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) | (sum >> 1)) + name11[i]! & 0xff;
  return sum;
}

const LFN_CHAR_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

function lfnChars(slot: Uint8Array): string {
  let s = '';
  for (const o of LFN_CHAR_OFFSETS) {
    const c = slot[o]! | (slot[o + 1]! << 8);
    if (c === 0x0000 || c === 0xffff) break;
    s += String.fromCharCode(c);
  }
  return s;
}

function shortNameOf(raw: Uint8Array, nt: number): { stored: string; display: string } {
  const bytes = [...raw];
  // 0x05 in the first byte stands for a real 0xE5 (a KANJI lead byte).
  if (bytes[0] === 0x05) bytes[0] = 0xe5;
  const base = String.fromCharCode(...bytes.slice(0, 8)).trimEnd();
  const ext = String.fromCharCode(...bytes.slice(8, 11)).trimEnd();
  const stored = ext ? `${base}.${ext}` : base;
  const b = nt & NT_LOWER_BASE ? base.toLowerCase() : base;
  const e = nt & NT_LOWER_EXT ? ext.toLowerCase() : ext;
  return { stored, display: e ? `${b}.${e}` : b };
}

interface PendingLfn {
  parts: { seq: number; text: string; slot: SlotAddress }[];
  checksum: number;
  broken: boolean;
}

/**
 * Parse directory slots in disk order. `slots` yields each raw 32-byte slot with its address;
 * parsing stops at the first 0x00 end marker (FatFs stops there too).
 */
export function parseDirectory(slots: Iterable<{ bytes: Uint8Array; at: SlotAddress }>, maxCluster: number): DirListing {
  const out: DirListing = { entries: [], orphans: [], invalid: [], slotsScanned: 0, endMarker: false };
  let pending: PendingLfn | null = null;
  const orphan = (p: PendingLfn, problem: LfnProblem, shortName: string | null): void => {
    // Disk order is highest sequence first, so the text reads in reverse part order.
    const text = [...p.parts].reverse().map((x) => x.text).join('');
    out.orphans.push({ text, problem, shortName, slots: p.parts.map((x) => x.slot) });
  };
  for (const { bytes: s, at } of slots) {
    out.slotsScanned++;
    const first = s[0]!;
    if (first === 0x00) {
      out.endMarker = true;
      break;
    }
    const attr = s[11]!;
    const isLfn = (attr & 0x3f) === ATTR_LONG_NAME;
    if (first === 0xe5) {
      // A deleted entry. Live LFN parts right before a deleted 8.3 entry are "deleted but
      // LFN left": an OS or bootloader deleted or renamed the 8.3 entry only.
      if (!isLfn && pending) {
        orphan(pending, 'deleted-short-entry', null);
        pending = null;
      }
      continue;
    }
    if (isLfn) {
      const seq = first & 0x1f;
      const last = (first & 0x40) !== 0;
      const part = { seq, text: lfnChars(s), slot: at };
      const sum = s[13]!;
      if (last) {
        if (pending) orphan(pending, 'sequence', null);
        pending = { parts: [part], checksum: sum, broken: seq === 0 || s[12] !== 0 };
      } else if (pending && !pending.broken && seq === pending.parts[pending.parts.length - 1]!.seq - 1 && sum === pending.checksum) {
        pending.parts.push(part);
      } else {
        if (pending) orphan(pending, 'sequence', null);
        pending = { parts: [part], checksum: sum, broken: true };
      }
      continue;
    }
    const raw = s.slice(0, 11);
    const nt = s[12]!;
    const { stored, display } = shortNameOf(raw, nt);
    const isLabel = (attr & ATTR_VOLUME_ID) !== 0 && (attr & ATTR_DIRECTORY) === 0;
    let longName: string | null = null;
    const entrySlots: SlotAddress[] = [];
    if (pending) {
      const complete = !pending.broken && pending.parts[pending.parts.length - 1]!.seq === 1;
      if (isLabel) orphan(pending, 'before-volume-label', stored);
      else if (!complete) orphan(pending, 'sequence', stored);
      else if (pending.checksum !== lfnChecksum(raw)) orphan(pending, 'checksum', stored);
      else {
        longName = [...pending.parts].reverse().map((x) => x.text).join('');
        entrySlots.push(...pending.parts.map((x) => x.slot));
      }
      pending = null;
    }
    entrySlots.push(at);
    const dv = new DataView(s.buffer, s.byteOffset, s.byteLength);
    const firstCluster = (dv.getUint16(20, true) << 16 >>> 0) + dv.getUint16(26, true);
    const size = dv.getUint32(28, true);
    const isDir = (attr & ATTR_DIRECTORY) !== 0;
    const entry: DirEntry = {
      name: longName ?? display,
      longName,
      shortName: stored,
      shortDisplay: display,
      rawName: raw,
      attr,
      isDir,
      isVolumeLabel: isLabel,
      firstCluster,
      size,
      slots: entrySlots,
    };
    if (!isLabel && stored !== '.' && stored !== '..') {
      if (firstCluster !== 0 && (firstCluster < 2 || firstCluster > maxCluster)) out.invalid.push({ name: entry.name, reason: `first cluster ${firstCluster} is outside the volume`, slot: at });
      if (raw.some((c) => c < 0x20 && !(c === 0x05 && raw[0] === c))) out.invalid.push({ name: entry.name, reason: 'control characters in the 8.3 name', slot: at });
    }
    out.entries.push(entry);
  }
  if (pending) orphan(pending, 'no-short-entry', null);
  return out;
}

/** True when `name` is a valid 8.3 name as given (upper or lower case allowed, no long-name characters). */
export function isShortName(name: string): boolean {
  const m = /^([^.]{1,8})(?:\.([^.]{1,3}))?$/.exec(name);
  if (!m) return false;
  return /^[A-Za-z0-9!#$%&'()@^_`{}~-]+$/.test(m[1]! + (m[2] ?? ''));
}

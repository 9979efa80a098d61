import type { SyncBlockDevice } from '../disk/block-device.js';
import type { LoggedSector, SectorRole, UpdateLog } from './update-log.js';

/**
 * Which half of one FatFs update reaches the card first. A FAT update (a chain allocated or
 * freed) touches at least three sectors — the FAT, its mirror and a directory entry — and no
 * order of those writes is consistent at every step, so the order picks the harmless
 * inconsistency: an unowned chain (fsck.fat: lost clusters, space only), never an entry over
 * free clusters (a damaged file).
 */
export type CommitOrder =
  /** Allocating: the FATs, then the entries that own the new chain. */
  | 'fat-first'
  /** Deleting: the entries, then the FATs that free the chain. */
  | 'entries-first'
  /**
   * Renaming: the FATs (a directory that grew by a cluster), then the entries, the sector FatFs
   * wrote last (the old entry, deleted) first. A rename
   * cut off between an old and a new entry in different sectors then leaves no name on the chain
   * for a moment (lost clusters) rather than two (the bootloader flashing and renaming one while
   * the other still owns the chain).
   */
  | 'rename';

/** Where FatFs keeps what, in sectors of the device FatFs runs on. */
export interface FatRegions {
  fatStart: number;
  sectorsPerFat: number;
  fats: number;
  /** The FAT32 FSInfo sector, or -1 (FAT12/16). */
  fsInfo: number;
}

/**
 * Holds the sectors FatFs writes from its window (FAT, directory and FSInfo sectors) until
 * FatFs syncs, then writes them in a chosen order; file data passes straight through. Why:
 * FatFs writes its window back whenever it moves to another sector, so closing a new file
 * reaches the card as "FAT, FAT mirror, read the directory sector, write the entry". An SD
 * error on that read (a CRC error on the card or on the serial link) stopped FWCARD.TMP's close
 * after its chain was in the FAT and before its entry owned it: lost clusters. Held here, a
 * failed read or data write leaves the card's metadata as it was, and the writes of a sync
 * follow each other with no read in between.
 *
 * Reads see held sectors (FatFs reads back what it wrote) and skip the device when every
 * sector asked for is held.
 */
export class MetadataBuffer {
  private readonly held = new Map<number, Uint8Array>();
  /**
   * What the card holds in the window sectors FatFs read (and the held sectors once written): the
   * "before" of an update's record without reading the card again. Bounded; a sector that fell
   * out is read again when an update needs it.
   */
  private readonly onCard = new Map<number, Uint8Array>();
  private regions: FatRegions | null = null;
  private order: CommitOrder = 'fat-first';
  private started = false;

  /** Tries of one group before a commit gives up (the SD driver retries inside each). */
  static readonly ATTEMPTS = 3;

  /** How many window sectors `onCard` keeps (2 MiB of 512-byte sectors). */
  static readonly KNOWN_SECTORS = 4096;

  /** With `log`, every commit is recorded before its first write (see UpdateLog). */
  constructor(private readonly dev: SyncBlockDevice, private readonly log?: UpdateLog) {}

  /** Set once the volume is mounted: without it everything counts as directory sectors. */
  setRegions(r: FatRegions): void {
    this.regions = r;
  }

  /** Start an update whose writes commit in `order`. */
  begin(order: CommitOrder): void {
    this.order = order;
  }

  /** A commit wrote some held sectors, maybe not all: only finishing it leaves the volume consistent. */
  get unfinished(): boolean {
    return this.started;
  }

  /** `window`: FatFs reads into its window (a metadata sector), not into file data buffers. */
  read(lba: number, count: number, window = false): Uint8Array {
    const ss = this.dev.sectorSize;
    let all = true;
    for (let i = 0; i < count && all; i++) all = this.held.has(lba + i);
    const out = all ? new Uint8Array(count * ss) : this.dev.readSync(lba, count);
    for (let i = 0; i < count; i++) {
      const h = this.held.get(lba + i);
      if (h) out.set(h, i * ss);
      else if (window && this.log) this.known(lba + i, out.slice(i * ss, (i + 1) * ss));
    }
    return out;
  }

  private known(lba: number, data: Uint8Array): void {
    this.onCard.delete(lba);
    if (this.onCard.size >= MetadataBuffer.KNOWN_SECTORS) this.onCard.delete(this.onCard.keys().next().value!);
    this.onCard.set(lba, data);
  }

  /** A sector FatFs wrote from its window: kept until the next commit. */
  hold(lba: number, data: Uint8Array): void {
    const ss = this.dev.sectorSize;
    for (let i = 0; i * ss < data.byteLength; i++) {
      // A Map keeps a key's first place when it is set again: within a group, sectors go out
      // in the order FatFs first wrote them.
      this.held.set(lba + i, data.slice(i * ss, (i + 1) * ss));
    }
  }

  /** File data: written now. A held copy of the same sector is older, so it is dropped. */
  writeThrough(lba: number, data: Uint8Array): void {
    this.dev.writeSync(lba, data);
    const n = data.byteLength / this.dev.sectorSize;
    for (let i = 0; i < n; i++) {
      this.held.delete(lba + i);
      this.onCard.delete(lba + i);
    }
  }

  /**
   * Write every held sector, one group after the other: the FAT copies (first FAT, then the
   * mirror) and the other sectors (directory entries, a new directory's cluster) in the update's
   * order. On FAT32, FSInfo's free-cluster count is first written as "unknown" (0xFFFFFFFF, which
   * fsck.fat and FatFs accept and recount) and the real count goes last, so no step in between
   * leaves a wrong count.
   *
   * The device may hold writes back and report a failure on a later call (flash-sdcard's
   * CombiningDevice does), and only `flushSync` promises that a write reached the card. So the
   * file data is flushed before the first held sector goes out (if that fails, nothing was
   * committed and the update can be dropped), and each group is flushed before the next one
   * starts, so a failure belongs to its group, which is written again. When a group keeps
   * failing this throws, keeping it and the rest, and `unfinished` tells the caller that a later
   * `commit()` must finish the job (a write that failed may still have reached the card, so
   * there is no going back in this run; with a log, the next run can undo it).
   *
   * With a log, the commit's record (every held sector, before and after) is made durable after
   * the file data is flushed and before the first held sector is written, and removed after the
   * last: a run that dies in between leaves the record for the next one.
   */
  commit(): void {
    if (!this.held.size) return;
    const plan = this.plan();
    if (!this.started) {
      this.dev.flushSync();
      if (this.log) this.log.begin(this.record(plan), this.cardSector(0));
    }
    this.started = true;
    for (const group of plan) {
      this.writeGroup(group);
      for (const [lba, data] of group) {
        if (this.held.get(lba) === data) this.held.delete(lba);
        if (this.log) this.known(lba, data);
      }
    }
    this.started = false;
    this.log?.end();
  }

  /** The held sectors, before (as on the card) and after, in the order they go out. */
  private record(plan: [number, Uint8Array][][]): LoggedSector[] {
    const r = this.regions;
    return [...plan.flat().reduce((m, [lba]) => m.set(lba, this.held.get(lba)!), new Map<number, Uint8Array>())].map(([lba, after]) => {
      const role: SectorRole = r && lba === r.fsInfo ? 'fsinfo' : r && lba >= r.fatStart && lba < r.fatStart + r.fats * r.sectorsPerFat ? 'fat' : 'other';
      let before = this.onCard.get(lba);
      // FatFs writes a FAT sector's mirror from the same window without reading it: the mirror
      // held what the first FAT held (an undo that finds otherwise refuses).
      if (!before && role === 'fat' && r) before = this.onCard.get(r.fatStart + ((lba - r.fatStart) % r.sectorsPerFat));
      return { lba, role, before: before ?? this.cardSector(lba), after };
    });
  }

  private cardSector(lba: number): Uint8Array {
    const known = this.onCard.get(lba);
    if (known) return known;
    const data = this.dev.readSync(lba, 1);
    this.known(lba, data);
    return data;
  }

  private writeGroup(group: [number, Uint8Array][]): void {
    for (let attempt = 1; ; attempt++) {
      try {
        for (const [lba, data] of group) this.dev.writeSync(lba, data);
        this.dev.flushSync();
        return;
      } catch (e) {
        if (attempt >= MetadataBuffer.ATTEMPTS) throw e;
      }
    }
  }

  /** Forget an update none of whose sectors was written (FatFs failed before it synced). */
  discard(): void {
    if (this.started) throw new Error('internal: discarding a commit that has started');
    this.held.clear();
  }

  /** The held sectors as groups, in the order they go out. */
  private plan(): [number, Uint8Array][][] {
    const r = this.regions;
    const fat: number[][] = [];
    const entries: number[] = [];
    let fsInfo: number | null = null;
    for (const lba of this.held.keys()) {
      const copy = r ? Math.floor((lba - r.fatStart) / r.sectorsPerFat) : -1;
      if (r && lba >= r.fatStart && copy < r.fats) (fat[copy] ??= []).push(lba);
      else if (r && lba === r.fsInfo) fsInfo = lba;
      else entries.push(lba);
    }
    const fats = fat.filter((s) => s?.length).map((s) => s.sort((a, b) => a - b));
    if (this.order === 'rename') entries.reverse();
    const main = this.order === 'entries-first' ? [entries, ...fats] : [...fats, entries];
    const groups = main.filter((g) => g.length).map((g) => g.map((lba): [number, Uint8Array] => [lba, this.held.get(lba)!]));
    if (fsInfo === null) return groups;
    const info = this.held.get(fsInfo)!;
    return groups.length ? [[[fsInfo, withUnknownFreeCount(info)]], ...groups, [[fsInfo, info]]] : [[[fsInfo, info]]];
  }
}

/** FSInfo's FSI_Free_Count (offset 488) set to "unknown". */
function withUnknownFreeCount(sector: Uint8Array): Uint8Array {
  const copy = sector.slice();
  copy.fill(0xff, 488, 492);
  return copy;
}

import type { Remedy } from '../../errors.js';
import type { VolumeContent } from '../../partition/content.js';
import type { FsKind } from '../../partition/probe.js';

export type Severity = 'error' | 'warning' | 'info';

/** What `--fix` would do about a finding. Only junk, names and orphaned LFN slots qualify. */
export type FixAction =
  // `path` and `from` are the names the user sees (long names); `shortPath` and `fromShort` the
  // 8.3 names the repair reaches the entry by (a long name with trailing dots or spaces cannot be
  // opened by name).
  | { kind: 'delete'; path: string; shortPath: string; isDir: boolean }
  | { kind: 'rename'; from: string; fromShort: string; to: string }
  | { kind: 'clear-lfn'; dirPath: string; text: string; slots: { sector: number; offset: number }[] };

export interface CheckFinding {
  /** Stable kebab-case identifier. */
  id: string;
  severity: Severity;
  message: string;
  /** The fix in the user's words, preferably a fwcard command. */
  hint: string;
  /** The command(s) the hint names, as argv: the hint's commands are rendered from it. */
  remedy?: Remedy;
  /** Where the rule came from: the board's catalog entry, the generic SD-bootloader view, or the card itself. */
  basis?: 'board' | 'generic';
  /** Present when `--fix` can repair it. */
  fix?: FixAction[];
}

export interface PartitionFacts {
  /** MBR slot 0-3, or 4+ for logical partitions in an extended partition; GPT entry index. */
  slot: number;
  start: number;
  sectors: number;
  type: number | null;
  typeName: string;
  fs: FsKind;
  label: string | null;
  logical: boolean;
  bootable: boolean;
  /** GPT partition name, or null. */
  name?: string | null;
  /** What the partition holds, by signature (null where it was not read: the other slots of a hybrid MBR). */
  content: VolumeContent | null;
}

export interface VolumeFacts {
  /** Slot of the partition the bootloader reads, or null for a superfloppy. */
  slot: number | null;
  start: number;
  sectors: number;
  fs: FsKind;
  bytesPerSector: number | null;
  clusterBytes: number | null;
  clusterCount: number | null;
  totalSectors: number | null;
  reservedSectors?: number;
  fatCount?: number;
  sectorsPerFat?: number;
  rootEntries?: number;
  dataStart?: number;
  label?: string | null;
  typeString?: string | null;
  oemName?: string;
  dirty?: boolean;
  ioErrorBit?: boolean;
  fsInfo?: { freeCount: number; nextFree: number; valid: boolean } | null;
  backupBootSector?: { sector: number; matches: boolean } | null;
}

export interface CardFacts {
  device: string;
  sizeBytes: number;
  sectorSize: number;
  sectorCount: number;
  kind: 'SDSC' | 'SDHC' | 'SDXC';
  table: 'mbr' | 'gpt' | 'none';
  hybridMbr: boolean;
  partitions: PartitionFacts[];
  /** What the whole card holds when it has no partition table. */
  content: VolumeContent | null;
  /** The volume a stock bootloader reads (first MBR slot, or the superfloppy), if any. */
  volume: VolumeFacts | null;
}

export interface FileFacts {
  path: string;
  name: string;
  shortName: string;
  longName: string | null;
  size: number;
  isDir: boolean;
  attributes: string[];
}

export interface FirmwareFacts extends FileFacts {
  clusters: number;
  clustersNeeded: number;
  contiguous: boolean;
  fragments: number;
  chainEnd: string;
  sha256: string | null;
  matchesGiven: boolean | null;
}

export interface FilesFacts {
  /** The folder the board's bootloader looks in ("/" for the root). */
  folder: string;
  /** The name the bootloader looks for ("*.bin" for any-name boards). */
  expected: string;
  firmware: FirmwareFacts | null;
  candidates: FileFacts[];
  renamed: FileFacts[];
  junk: FileFacts[];
  /** Everything in the root (and the board's folder). */
  entries: FileFacts[];
}

export interface CheckReport {
  ok: boolean;
  board: string | null;
  /** "board": rules from the catalog entry (with the generic view where it is silent); "generic": no --board. */
  view: 'board' | 'generic';
  card: CardFacts;
  files: FilesFacts | null;
  findings: CheckFinding[];
  /** Bytes read from the card for this check. */
  bytesRead: number;
}

import type { Board } from '../../boards/types.js';
import type { MountEntry } from '../../disk/linux-block.js';
import type { Layout } from '../../fat/layout.js';
import type { CardProbe } from '../../partition/probe.js';
import type { ProgressListener } from '../../progress.js';
import type { FirmwareCheck } from '../firmware-check.js';

export interface PrepareOptions {
  target: string;
  board: string;
  firmware: string;
  boardsFile?: string;
  /** Create (or re-create) an image file of this many bytes. */
  size?: number;
  fs?: 'auto' | 'fat16' | 'fat32';
  clusterBytes?: number;
  partitionBytes?: number;
  label?: string;
  /** false: partitionless "superfloppy" volume. */
  mbr?: boolean;
  /** false: keep the card's FAT volume and only (re)place the firmware file. */
  format?: boolean;
  dryRun?: boolean;
  /** Write even when the firmware inspection reports an error. */
  force?: boolean;
  /** Asked once every check has passed and before the first write. */
  confirm: (plan: PreparePlan) => Promise<boolean>;
  onProgress?: ProgressListener;
  now?: Date;
}

export interface TargetFacts {
  path: string;
  kind: 'image' | 'block';
  exists: boolean;
  sizeBytes: number;
  cardKind: 'SDSC' | 'SDHC' | 'SDXC';
  model: string | null;
  removable: boolean | null;
  /** Current partition table and what each partition holds (by signature): what a format destroys. */
  current: CardProbe | null;
  /** File systems of the card mounted now: unmounted after confirmation, before writing. */
  mounted: MountEntry[];
}

/** Where the FAT volume is on the card, in sectors. */
export interface VolumePlace {
  start: number;
  sectors: number;
}

export interface PreparePlan {
  target: TargetFacts;
  board: Board;
  format: boolean;
  /** The new layout (format) or the volume found on the card (no format). */
  layout: Layout | null;
  volume: VolumePlace;
  firmware: { path: string; size: number; sha256: string; cardPath: string; writtenBytes: number };
  inspection: FirmwareCheck;
  /** Files that will be removed from the card (old .bin files on unique-name boards). */
  removes: string[];
}

export interface PrepareResult {
  target: string;
  board: string;
  fs: 'FAT16' | 'FAT32';
  clusterSize: number;
  partitionStart: number;
  partitionSectors: number;
  firmwarePath: string;
  sha256: string;
  firmwareSize: number;
  verified: boolean;
  formatted: boolean;
  removed: string[];
  bytesWritten: number;
  durationMs: number;
  dryRun: boolean;
  layout: Layout | null;
  findings: FirmwareCheck['findings'];
  /** The plan's facts about the target, read before anything was written (`target.current`: what was on it). */
  plan: { target: TargetFacts };
}

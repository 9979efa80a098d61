import type { CardProbe } from '../../partition/probe.js';
import type { RepairPlan, RepairReason } from './plan.js';

/** A repair plan as the plan (--dry-run, --json) and the confirmation show it. */
export interface RepairSummary {
  /** The bootloader cannot read the card: it is to be re-created (false: it is left as it is). */
  needed: boolean;
  reasons: RepairReason[];
  /** What is on the card now (all of it is lost when `needed`). */
  now: CardProbe;
  volume: { fs: string; partitionStart: number; sectors: number; clusterBytes: number; label: string } | null;
  /** Bytes the repair sends to the card. */
  bytesWritten: number;
  /** Card space the new volume leaves unused. */
  unusedBytes: number;
  /** How to get the rest of the card back. */
  reclaim: string | null;
}

export function summarizeRepair(p: RepairPlan, board: string): RepairSummary {
  const l = p.layout;
  return {
    needed: p.needed,
    reasons: p.reasons,
    now: p.before,
    volume: l ? { fs: l.fsType, partitionStart: l.partitionStart, sectors: l.partitionSectors, clusterBytes: l.clusterBytes, label: 'FIRMWARE' } : null,
    bytesWritten: p.bytesWritten,
    unusedBytes: p.unusedBytes,
    reclaim: l ? `the rest of the card is left unused; to use all of it, put the card in a card reader on a PC and run \`fwcard prepare /dev/sdX --board ${board}\`` : null,
  };
}

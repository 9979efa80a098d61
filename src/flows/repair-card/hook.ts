import type { Board } from '../../boards/types.js';
import type { BlockDevice } from '../../disk/block-device.js';
import { SafetyError } from '../../errors.js';
import type { ProgressListener, Trace } from '../../progress.js';
import type { SdCardFacts } from '../../sdcard/card-facts.js';
import { applyRepair, resumeRepair, type ResumeOutcome } from './apply.js';
import { planRepair } from './plan.js';
import { repairRecordPath, type RepairIdentity } from './record.js';
import { summarizeRepair, type RepairSummary } from './summary.js';

/**
 * flash-sdcard --format: the card behind the MCU, before its FAT volume is looked for. Called
 * once per run with the card's block device; says whether it changed the card (then the caller
 * reads the partition table again).
 */
export type CardRepairHook = (device: BlockDevice, identity: RepairIdentity, facts: SdCardFacts) => Promise<boolean>;

/** What became of the card: left as it was, re-created now, or a repair an earlier run left unfinished completed. */
export type RepairOutcome =
  | { status: 'not-needed'; summary: RepairSummary }
  | { status: 'repaired'; summary: RepairSummary; bytesWritten: number; ms: number }
  | { status: 'resumed'; resumed: ResumeOutcome };

/** --dry-run with --format on a card that needs it: the plan, nothing written (caught by the dry run). */
export class RepairPlanned extends Error {
  constructor(readonly summary: RepairSummary, readonly facts: SdCardFacts) {
    super('internal: a planned card repair (dry run)');
  }
}

export interface RepairHookOptions {
  board: Board;
  /** --format: re-create a card the bootloader cannot read. Without it only an unfinished repair is completed. */
  format: boolean;
  dryRun: boolean;
  /**
   * Show the plan and ask; false: not confirmed. (The CLI asks "yes" on a terminal, and without
   * one refuses unless --yes was given.)
   */
  confirm: (summary: RepairSummary) => Promise<boolean>;
  onProgress?: ProgressListener;
  trace?: Trace;
  /** Where the hook reports what it did. */
  report: (o: RepairOutcome) => void;
}

export function cardRepairHook(o: RepairHookOptions): CardRepairHook {
  let used = false;
  return async (device, identity, facts) => {
    // Once per run: after the repair (or the decision not to), the card is judged as usual.
    if (used) return false;
    used = true;
    const recordPath = repairRecordPath(identity.card);
    if (!o.dryRun && !device.readOnly) {
      // A repair an earlier run left unfinished was confirmed then: complete it, whatever the flags now.
      const resumed = await resumeRepair(device, { identity, recordPath, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
      if (resumed.status !== 'none') {
        o.trace?.('repair', `record ${recordPath}: ${JSON.stringify(resumed)}`);
        o.report({ status: 'resumed', resumed });
        if (resumed.status === 'completed') return true;
      }
    }
    if (!o.format) return false;
    o.onProgress?.({ phase: 'card-init', label: 'checking whether the board\'s bootloader can read the card' });
    const plan = await planRepair(device, o.board);
    const summary = summarizeRepair(plan, o.board.name);
    if (!plan.needed) {
      o.report({ status: 'not-needed', summary });
      return false;
    }
    if (o.dryRun) throw new RepairPlanned(summary, facts);
    if (!(await o.confirm(summary))) {
      throw new SafetyError('not-confirmed', 'nothing was written to the card: the repair was not confirmed', {
        hint: 'Answer "yes" to re-create the card, or take it out and run `fwcard prepare` on a PC.',
      });
    }
    const t0 = Date.now();
    const r = await applyRepair(device, plan, { identity, recordPath, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
    o.report({ status: 'repaired', summary, bytesWritten: r.bytesWritten, ms: Date.now() - t0 });
    return true;
  };
}

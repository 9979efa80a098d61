import { SafetyError, UsageError } from '../errors.js';
import { LocalFatVolume } from '../fat/local-volume.js';
import { noProgress } from '../progress.js';
import { planPrepare } from './prepare/plan.js';
import type { PrepareOptions, PreparePlan, PrepareResult } from './prepare/types.js';
import { formatCard, installOnCard, openForWriting } from './prepare/write.js';

export { planPrepare } from './prepare/plan.js';
export type { PrepareOptions, PreparePlan, PrepareResult, TargetFacts } from './prepare/types.js';

/**
 * `fwcard prepare`: plan (read only), refuse a firmware that fails its check, confirm, open,
 * format, install the firmware (temporary name, read-back, rename) and report. Nothing is
 * written before `confirm`.
 */
export async function prepare(opts: PrepareOptions): Promise<PrepareResult> {
  const started = Date.now();
  const progress = opts.onProgress ?? noProgress;
  if (!opts.dryRun) LocalFatVolume.preload();
  const plan = await planPrepare(opts);
  refuseFailedFirmware(plan, opts);
  const base = resultOf(plan, opts);
  if (opts.dryRun) return { ...base, durationMs: Date.now() - started };
  // The time reported is fwcard's, not the user's: the wait at the prompt is left out.
  const asked = Date.now();
  await confirmPlan(plan, opts);
  const atPrompt = Date.now() - asked;

  const card = openForWriting(plan, opts, progress);
  try {
    formatCard(card, plan, opts, progress);
    const volume = await installOnCard(card, plan, progress);
    const size = plan.firmware.writtenBytes;
    progress({ phase: 'verify', label: 'verified', bytes: size, total: size, done: true });
    return {
      ...base, fs: volume.fs, clusterSize: volume.clusterBytes, verified: true, dryRun: false,
      bytesWritten: card.dev.counters.bytesWritten, durationMs: Date.now() - started - atPrompt,
    };
  } finally {
    await card.close();
  }
}

/** A firmware whose check found an error is written only with --force. */
function refuseFailedFirmware(plan: PreparePlan, opts: PrepareOptions): void {
  const errors = plan.inspection.findings.filter((f) => f.severity === 'error');
  if (!errors.length || opts.force) return;
  const first = errors[0]!;
  throw new UsageError(`firmware-${first.id}`, `firmware check failed for ${plan.board.name}: ${first.message}`, {
    hint: `${first.hint ?? ''}${first.hint ? ' ' : ''}(--force writes it anyway.)`.trim(),
    details: { findings: plan.inspection.findings },
  });
}

async function confirmPlan(plan: PreparePlan, opts: PrepareOptions): Promise<void> {
  if (await opts.confirm(plan)) return;
  throw new SafetyError('not-confirmed', `nothing was written to ${opts.target}: not confirmed`, {
    hint: 'Answer "yes" at the prompt, or pass --yes when you are sure this is the right card.',
  });
}

/** The result as the plan has it: what a dry run reports, and what a run fills in. */
function resultOf(plan: PreparePlan, opts: PrepareOptions): PrepareResult {
  return {
    target: opts.target,
    board: plan.board.name,
    fs: plan.layout?.fsType ?? 'FAT32',
    clusterSize: plan.layout?.clusterBytes ?? 0,
    partitionStart: plan.volume.start,
    partitionSectors: plan.volume.sectors,
    firmwarePath: plan.firmware.cardPath,
    sha256: plan.firmware.sha256,
    firmwareSize: plan.firmware.writtenBytes,
    formatted: plan.format,
    removed: plan.removes,
    layout: plan.layout,
    findings: plan.inspection.findings,
    plan: { target: plan.target },
    verified: false,
    bytesWritten: 0,
    durationMs: 0,
    dryRun: true,
  };
}

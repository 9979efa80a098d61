import { Option, type Command } from 'commander';
import type { PreparePlan, PrepareResult } from '../../flows/prepare.js';
import { partitionTypeName } from '../../partition/mbr.js';
import { boardLabel } from '../../boards/label.js';
import { formatBytes, parseSize } from '../../util/size.js';
import { action } from '../action.js';
import { confirmDestructive } from '../confirm.js';
import { addCommonOptions, boardsFileOf, parseCommon, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { ProgressView } from '../progress-view.js';
import type { Layout } from '../../fat/layout.js';
import { describeTargetNow } from '../render/card-content.js';
import { UsageError, isFwcardError } from '../../errors.js';
import { makeTrace } from '../trace.js';

export function describeLayout(l: Layout): string[] {
  return [
    `partition table: ${l.mbr ? `MBR, one primary partition, type 0x${l.partitionType.toString(16).padStart(2, '0')} (${partitionTypeName(l.partitionType)})` : 'none (superfloppy)'}`,
    `partition: start sector ${l.partitionStart}, ${l.partitionSectors} sectors (${formatBytes(l.partitionSectors * l.sectorSize)})`,
    `file system: ${l.fsType}, ${formatBytes(l.clusterBytes)} clusters, ${l.clusterCount} clusters`,
    `reserved sectors: ${l.reservedSectors}; FATs: ${l.fatCount} × ${l.sectorsPerFat} sectors${l.rootEntries ? `; root directory: ${l.rootEntries} entries` : ''}`,
    `data area: sector ${l.dataStartAbsolute}, aligned to the ${formatBytes(l.boundaryUnit * l.sectorSize)} boundary unit (${l.cardKind} rules)`,
  ];
}

function planText(plan: PreparePlan, typed?: string): string[] {
  const t = plan.target;
  const lines = [
    `target: ${t.path} (${t.kind === 'block' ? 'block device' : 'image file'}${t.model ? `, ${t.model}` : ''}), ${formatBytes(t.sizeBytes)}, ${t.cardKind}`,
  ];
  for (const m of t.mounted) lines.push(`mounted: ${m.source} on ${m.mountPoint} (will be unmounted)`);
  lines.push(...describeTargetNow(t.current, plan.format));
  if (plan.format) {
    if (plan.layout) lines.push('new layout:', ...describeLayout(plan.layout).map((l) => '  ' + l));
  } else {
    lines.push(`keeping the FAT volume at sector ${plan.volume.start}`);
  }
  const alias = boardLabel(typed, plan.board.name) !== plan.board.name;
  lines.push(`board: ${alias ? `${typed} (${plan.board.name}, ${plan.board.vendor})` : `${plan.board.name} (${plan.board.vendor})`}`);
  lines.push(`firmware: ${plan.firmware.path} → ${plan.firmware.cardPath} (${formatBytes(plan.firmware.writtenBytes)}, sha256 ${plan.firmware.sha256.slice(0, 16)}…)`);
  for (const r of plan.removes) lines.push(`remove: ${r} (this board needs a new name each flash)`);
  for (const f of plan.inspection.findings) lines.push(`${f.severity}: ${f.message}${f.hint ? ` — ${f.hint}` : ''}`);
  return lines;
}

function resultJson(r: PrepareResult): Record<string, unknown> {
  return { ok: r.verified || r.dryRun, ...r };
}

interface PrepareCommandOptions {
  /** None: pick one on a terminal. */
  targets: string[];
  /** None: pick one on a terminal. */
  board: string | undefined;
  firmware: string;
  size: number | undefined;
  fs: 'auto' | 'fat16' | 'fat32';
  clusterBytes: number | undefined;
  partitionBytes: number | undefined;
  label: string | undefined;
  mbr: boolean;
  format: boolean;
  force: boolean;
  yes: boolean;
  dryRun: boolean;
  /**
   * A --size, --partition-size or --cluster that does not parse. It is reported as the card's
   * result, after a missing target or board (as it always was): in a batch, each card's.
   */
  badValue: UsageError | undefined;
  common: CommonOptions;
}

/** The numbers in --size, --partition-size and --cluster, or the usage error of the first bad one. */
function parseSizes(raw: RawOptions): Pick<PrepareCommandOptions, 'size' | 'partitionBytes' | 'clusterBytes'> {
  const clusterBytes = raw.cluster === undefined ? undefined : Number(raw.cluster);
  if (clusterBytes !== undefined && !Number.isInteger(clusterBytes)) {
    throw new UsageError('bad-cluster', `--cluster "${String(raw.cluster)}" is not a number of bytes`, { hint: 'Use e.g. --cluster 4096.' });
  }
  return {
    clusterBytes,
    size: raw.size === undefined ? undefined : parseSize(String(raw.size), '--size'),
    partitionBytes: raw.partitionSize === undefined ? undefined : parseSize(String(raw.partitionSize), '--partition-size'),
  };
}

function parse([targets]: [string[]], raw: RawOptions): PrepareCommandOptions {
  let sizes: ReturnType<typeof parseSizes> = { size: undefined, partitionBytes: undefined, clusterBytes: undefined };
  let badValue: UsageError | undefined;
  try {
    sizes = parseSizes(raw);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    badValue = e;
  }
  return {
    targets,
    board: stringOption(raw.board),
    firmware: String(raw.firmware),
    ...sizes,
    badValue,
    fs: raw.fs as PrepareCommandOptions['fs'],
    label: stringOption(raw.label),
    mbr: raw.mbr !== false,
    format: raw.format !== false,
    force: !!raw.force,
    yes: !!raw.yes,
    dryRun: !!raw.dryRun,
    common: parseCommon(raw),
  };
}

async function run(o: PrepareCommandOptions, out: Output): Promise<number | void> {
  // No target or no --board: pick them on a terminal, else an error naming what to pass.
  const { completePrepareArgs } = await import('../interactive/prepare-args.js');
  const { targets, board } = await completePrepareArgs({ targets: o.targets, board: o.board, firmware: o.firmware, ...boardsFileOf(o.common) });
  const { prepare } = await import('../../flows/prepare.js');
  const batch = targets.length > 1;
  // A batch interleaves several cards: plain progress lines, each prefixed with its target.
  const view = await ProgressView.create({ quiet: o.common.quiet, color: o.common.color, ...(batch ? { plain: true } : {}) });
  const trace = makeTrace({ verbose: o.common.verbose, log: o.common.log });
  let confirmed: Promise<boolean> | null = null;
  const prepareOne = async (target: string): Promise<PrepareResult> => {
    if (o.badValue) throw o.badValue;
    return prepare({
      target,
      board,
      firmware: o.firmware,
      ...boardsFileOf(o.common),
      size: o.size,
      fs: o.fs,
      clusterBytes: o.clusterBytes,
      partitionBytes: o.partitionBytes,
      label: o.label,
      mbr: o.mbr,
      format: o.format,
      dryRun: o.dryRun,
      force: o.force,
      onProgress: (e) => {
        const ev = batch ? { ...e, label: `${target}: ${e.label}` } : e;
        if (!batch || !e.bytes || e.done) view.listener(ev);
        trace?.('progress', `${target} ${e.phase}: ${e.label}${e.bytes !== undefined ? ` ${e.bytes}/${e.total ?? '?'}` : ''}`);
      },
      confirm: async (plan) => {
        if (!o.yes) for (const l of planText(plan, board)) process.stderr.write(l + '\n');
        const what = plan.format ? `ERASE everything on ${targets.join(', ')}` : `replace the firmware on ${targets.join(', ')}`;
        // One question for the whole batch.
        const keep = plan.format ? {} : { action: 'write the firmware onto the existing volume', note: 'Nothing would be erased: --no-format keeps the volume and replaces only the firmware file.' };
        confirmed ??= confirmDestructive(`This will ${what}.`, { yes: o.yes, ...keep });
        return confirmed;
      },
    });
  };
  if (!batch) {
    try {
      const result = await prepareOne(targets[0]!);
      view.stop();
      if (out.json) out.result(resultJson(result));
      else renderResult(out, targets[0]!, result, board);
    } catch (e) {
      view.stop(true);
      throw e;
    }
    return;
  }
  // Print-farm batch: every card prepared and verified on its own; one result per target.
  const settled = await Promise.allSettled(targets.map((t) => prepareOne(t)));
  view.stop();
  return renderBatch(out, targets, settled, board);
}

function renderBatch(out: Output, targets: string[], settled: PromiseSettledResult<PrepareResult>[], typed?: string): number {
  const results = settled.map((r, i) =>
    r.status === 'fulfilled'
      ? { target: targets[i]!, ...resultJson(r.value) }
      : { target: targets[i]!, ok: false, error: isFwcardError(r.reason) ? r.reason.toJSON() : { code: 'internal', message: String((r.reason as Error)?.message ?? r.reason), hint: null } },
  );
  const allOk = results.every((r) => r.ok);
  if (out.json) out.result({ ok: allOk, results });
  else {
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') renderResult(out, targets[i]!, r.value, typed);
      else {
        const err = r.reason as { message?: string; hint?: string };
        out.line(`${out.color(31, '✖')} ${targets[i]}: ${err.message ?? String(r.reason)}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
      }
    });
    out.line(`${results.filter((r) => r.ok).length} of ${results.length} cards ready`);
  }
  return allOk ? 0 : 2;
}

export function register(program: Command): void {
  const cmd = program
    .command('prepare')
    .description('Partition and format a microSD card (or image file) the way the board\'s bootloader reads it, write the firmware under the board\'s file name, read it back and verify.')
    .argument('[targets...]', 'image file (created with --size) or block device such as /dev/sdb; several for a batch; none on a terminal: pick a drive')
    .option('--board <name>', 'board name (see `fwcard boards`); none on a terminal: pick one')
    .requiredOption('--firmware <file>', 'firmware .bin to put on the card')
    .option('--size <size>', 'create or re-create an image file of this size (e.g. 8G, 512M)')
    .addOption(new Option('--fs <type>', 'file system').choices(['auto', 'fat16', 'fat32']).default('auto'))
    .option('--cluster <bytes>', 'cluster size in bytes (512 … 65536)')
    .option('--partition-size <size>', 'make the FAT volume this big instead of the whole card (e.g. 4G on a 128 GB card)')
    .option('--label <name>', 'volume label (up to 11 characters)')
    .option('--no-mbr', 'no partition table: a "superfloppy" volume from sector 0')
    .option('--no-format', 'keep the card\'s FAT volume and only replace the firmware file')
    .option('--force', 'write even if the firmware check reports an error')
    .option('-y, --yes', 'do not ask for confirmation before erasing')
    .option('--dry-run', 'print what is on the target now and the planned layout; write nothing');
  addCommonOptions(cmd, { boardsFile: true, json: true, quiet: true, color: true, verbose: 'trace each step on stderr', log: true })
    .addHelpText('after', `
Examples:
  fwcard prepare card.img --size 8G --board btt-octopus-f446-v1 --firmware klipper.bin --yes
  fwcard prepare /dev/sdb --board btt-skr-mini-e3-v3 --firmware out/klipper.bin --dry-run
  fwcard prepare /dev/sdb --board creality-v4.2.2 --firmware klipper.bin --partition-size 4G
  fwcard prepare /dev/sdb /dev/sdc /dev/sdd --board btt-skr-mini-e3-v3 --firmware klipper.bin --yes   # a batch
  fwcard prepare --firmware out/klipper.bin      # on a terminal: pick the card and the board`)
    .action(action(parse, run));
}

function renderResult(out: Output, target: string, result: PrepareResult, typed?: string): void {
  if (result.dryRun) {
    out.line('dry run: nothing was written. Planned:');
    out.line(`  target: ${target}`);
    for (const l of describeTargetNow(result.plan.target.current, result.formatted, true)) out.line('  ' + l);
    if (result.layout) for (const l of describeLayout(result.layout)) out.line('  ' + l);
    out.line(`  firmware: ${result.firmwarePath} (${formatBytes(result.firmwareSize)}, sha256 ${result.sha256})`);
    for (const f of result.findings) out.line(`  ${f.severity}: ${f.message}`);
    return;
  }
  out.line(`${out.color(32, '✔')} ${target} is ready for ${boardLabel(typed, result.board)}: ${result.fs}, ${formatBytes(result.clusterSize)} clusters, partition at sector ${result.partitionStart}`);
  out.line(`  ${result.firmwarePath}  sha256 ${result.sha256}  (read back and verified)`);
  for (const r of result.removed) out.line(`  removed ${r}`);
  out.line(`  ${formatBytes(result.bytesWritten)} written in ${(result.durationMs / 1000).toFixed(2)}s`);
  for (const f of result.findings.filter((x) => x.severity !== 'info')) out.line(`  ${out.color(33, '!')} ${f.message}${f.hint ? `\n    ${f.hint}` : ''}`);
}

import { Command, Option } from 'commander';
import { prepare, type PreparePlan, type PrepareResult } from '../../flows/prepare.js';
import { partitionTypeName } from '../../partition/mbr.js';
import { formatBytes, parseSize } from '../../util/size.js';
import { confirmDestructive } from '../confirm.js';
import { Output, reportError } from '../output.js';
import { ProgressView } from '../progress-view.js';
import type { Layout } from '../../fat/layout.js';
import { describeTargetNow } from '../render/card-content.js';
import { UsageError, isFwcardError } from '../../errors.js';
import { makeTrace } from '../trace.js';
import { completePrepareArgs } from '../interactive/prepare-args.js';

export function describeLayout(l: Layout): string[] {
  return [
    `partition table: ${l.mbr ? `MBR, one primary partition, type 0x${l.partitionType.toString(16).padStart(2, '0')} (${partitionTypeName(l.partitionType)})` : 'none (superfloppy)'}`,
    `partition: start sector ${l.partitionStart}, ${l.partitionSectors} sectors (${formatBytes(l.partitionSectors * l.sectorSize)})`,
    `file system: ${l.fsType}, ${formatBytes(l.clusterBytes)} clusters, ${l.clusterCount} clusters`,
    `reserved sectors: ${l.reservedSectors}; FATs: ${l.fatCount} × ${l.sectorsPerFat} sectors${l.rootEntries ? `; root directory: ${l.rootEntries} entries` : ''}`,
    `data area: sector ${l.dataStartAbsolute}, aligned to the ${formatBytes(l.boundaryUnit * l.sectorSize)} boundary unit (${l.cardKind} rules)`,
  ];
}

function planText(plan: PreparePlan): string[] {
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
  lines.push(`board: ${plan.board.name} (${plan.board.vendor})`);
  lines.push(`firmware: ${plan.firmware.path} → ${plan.firmware.cardPath} (${formatBytes(plan.firmware.writtenBytes)}, sha256 ${plan.firmware.sha256.slice(0, 16)}…)`);
  for (const r of plan.removes) lines.push(`remove: ${r} (this board needs a new name each flash)`);
  for (const f of plan.inspection.findings) lines.push(`${f.severity}: ${f.message}${f.hint ? ` — ${f.hint}` : ''}`);
  return lines;
}

function resultJson(r: PrepareResult): Record<string, unknown> {
  return { ok: r.verified || r.dryRun, ...r };
}

export function register(program: Command): void {
  program
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
    .option('--dry-run', 'print what is on the target now and the planned layout; write nothing')
    .option('--boards-file <file>', 'extra or overriding board definitions (JSON)')
    .option('--json', 'print one JSON document on stdout')
    .option('-q, --quiet', 'no progress output')
    .option('--no-color', 'no colours')
    .option('-v, --verbose', 'trace each step on stderr')
    .option('--log <file>', 'append a full trace to a file (for bug reports)')
    .addHelpText('after', `
Examples:
  fwcard prepare card.img --size 8G --board btt-octopus-f446-v1 --firmware klipper.bin --yes
  fwcard prepare /dev/sdb --board btt-skr-mini-e3-v3 --firmware out/klipper.bin --dry-run
  fwcard prepare /dev/sdb --board creality-v4.2.2 --firmware klipper.bin --partition-size 4G
  fwcard prepare /dev/sdb /dev/sdc /dev/sdd --board btt-skr-mini-e3-v3 --firmware klipper.bin --yes   # a batch
  fwcard prepare --firmware out/klipper.bin      # on a terminal: pick the card and the board`)
    .action(async (given: string[], o: Record<string, unknown>) => {
      const out = new Output({ json: !!o.json, quiet: !!o.quiet, color: o.color !== false });
      // No target or no --board: pick them on a terminal, else an error naming what to pass.
      let targets: string[];
      try {
        ({ targets, board: o.board } = await completePrepareArgs({ targets: given, ...(o.board ? { board: String(o.board) } : {}), ...(o.boardsFile ? { boardsFile: String(o.boardsFile) } : {}) }));
      } catch (e) {
        process.exitCode = reportError(e, out);
        return;
      }
      const batch = targets.length > 1;
      // A batch interleaves several cards: plain progress lines, each prefixed with its target.
      const view = new ProgressView({ quiet: !!o.quiet, color: o.color !== false, ...(batch ? { plain: true } : {}) });
      const trace = makeTrace({ verbose: !!o.verbose, ...(o.log ? { log: String(o.log) } : {}) });
      let confirmed: Promise<boolean> | null = null;
      const run = async (target: string): Promise<PrepareResult> => {
        const cluster = o.cluster === undefined ? undefined : Number(o.cluster);
        if (cluster !== undefined && !Number.isInteger(cluster)) {
          throw new UsageError('bad-cluster', `--cluster "${String(o.cluster)}" is not a number of bytes`, { hint: 'Use e.g. --cluster 4096.' });
        }
        return prepare({
          target,
          board: String(o.board),
          firmware: String(o.firmware),
          ...(o.boardsFile ? { boardsFile: String(o.boardsFile) } : {}),
          ...(o.size !== undefined ? { size: parseSize(String(o.size), '--size') } : {}),
          fs: o.fs as 'auto' | 'fat16' | 'fat32',
          ...(cluster !== undefined ? { clusterBytes: cluster } : {}),
          ...(o.partitionSize !== undefined ? { partitionBytes: parseSize(String(o.partitionSize), '--partition-size') } : {}),
          ...(o.label !== undefined ? { label: String(o.label) } : {}),
          mbr: o.mbr !== false,
          format: o.format !== false,
          dryRun: !!o.dryRun,
          force: !!o.force,
          onProgress: (e) => {
            const ev = batch ? { ...e, label: `${target}: ${e.label}` } : e;
            if (!batch || !e.bytes || e.done) view.listener(ev);
            trace?.('progress', `${target} ${e.phase}: ${e.label}${e.bytes !== undefined ? ` ${e.bytes}/${e.total ?? '?'}` : ''}`);
          },
          confirm: async (plan) => {
            if (!o.yes) for (const l of planText(plan)) process.stderr.write(l + '\n');
            const what = plan.format ? `ERASE everything on ${targets.join(', ')}` : `replace the firmware on ${targets.join(', ')}`;
            // One question for the whole batch.
            confirmed ??= confirmDestructive(`This will ${what}.`, { yes: !!o.yes });
            return confirmed;
          },
        });
      };
      if (!batch) {
        try {
          const result = await run(targets[0]!);
          view.stop();
          if (out.json) out.result(resultJson(result));
          else renderResult(out, targets[0]!, result);
        } catch (e) {
          view.stop(true);
          process.exitCode = reportError(e, out);
        }
        return;
      }
      // Print-farm batch: every card prepared and verified on its own; one result per target.
      const settled = await Promise.allSettled(targets.map((t) => run(t)));
      view.stop();
      const results = settled.map((r, i) =>
        r.status === 'fulfilled'
          ? { target: targets[i]!, ...resultJson(r.value) }
          : { target: targets[i]!, ok: false, error: isFwcardError(r.reason) ? r.reason.toJSON() : { code: 'internal', message: String((r.reason as Error)?.message ?? r.reason), hint: null } },
      );
      const allOk = results.every((r) => r.ok);
      if (out.json) out.result({ ok: allOk, results });
      else {
        settled.forEach((r, i) => {
          if (r.status === 'fulfilled') renderResult(out, targets[i]!, r.value);
          else {
            const err = r.reason as { message?: string; hint?: string };
            out.line(`${out.color(31, '✖')} ${targets[i]}: ${err.message ?? String(r.reason)}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
          }
        });
        out.line(`${results.filter((r) => r.ok).length} of ${results.length} cards ready`);
      }
      process.exitCode = allOk ? 0 : 2;
    });
}

function renderResult(out: Output, target: string, result: PrepareResult): void {
  if (result.dryRun) {
    out.line('dry run: nothing was written. Planned:');
    out.line(`  target: ${target}`);
    for (const l of describeTargetNow(result.plan.target.current, result.formatted, true)) out.line('  ' + l);
    if (result.layout) for (const l of describeLayout(result.layout)) out.line('  ' + l);
    out.line(`  firmware: ${result.firmwarePath} (${formatBytes(result.firmwareSize)}, sha256 ${result.sha256})`);
    for (const f of result.findings) out.line(`  ${f.severity}: ${f.message}`);
    return;
  }
  out.line(`${out.color(32, '✔')} ${target} is ready for ${result.board}: ${result.fs}, ${formatBytes(result.clusterSize)} clusters, partition at sector ${result.partitionStart}`);
  out.line(`  ${result.firmwarePath}  sha256 ${result.sha256}  (read back and verified)`);
  for (const r of result.removed) out.line(`  removed ${r}`);
  out.line(`  ${formatBytes(result.bytesWritten)} written in ${(result.durationMs / 1000).toFixed(2)}s`);
  for (const f of result.findings.filter((x) => x.severity !== 'info')) out.line(`  ${out.color(33, '!')} ${f.message}${f.hint ? `\n    ${f.hint}` : ''}`);
}

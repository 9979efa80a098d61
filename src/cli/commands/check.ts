import type { Command } from 'commander';
import type { CheckFinding, CheckResult } from '../../flows/check.js';
import { boardLabel } from '../../boards/label.js';
import { describeCheckedPartitions } from '../render/card-content.js';
import { formatBytes } from '../../util/size.js';
import { action } from '../action.js';
import { addCommonOptions, boardsFileOf, parseCommon, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';

const MARK: Record<CheckFinding['severity'], [number, string]> = { error: [31, 'error  '], warning: [33, 'warning'], info: [36, 'info   '] };

function cardLines(r: CheckResult): string[] {
  const c = r.card;
  const lines = [`card: ${r.target}, ${formatBytes(c.sizeBytes)} (${c.kind}), ${c.sectorSize}-byte sectors`];
  if (c.table !== 'none') lines.push(`  ${c.table.toUpperCase()}${c.hybridMbr ? ' (hybrid MBR)' : ''}, ${c.partitions.length} partition(s)`);
  for (const l of describeCheckedPartitions(c)) lines.push(`${c.table === 'none' ? '  ' : '    '}${l}`);
  const v = c.volume;
  if (v && v.clusterBytes) lines.push(`  volume: ${v.fs}, ${formatBytes(v.clusterBytes)} clusters, ${v.clusterCount} clusters${v.label ? `, label "${v.label}"` : ''}`);
  const f = r.files;
  if (f?.firmware) lines.push(`  firmware: ${f.firmware.path}, ${formatBytes(f.firmware.size)}${f.firmware.sha256 ? `, sha256 ${f.firmware.sha256.slice(0, 16)}…` : ''}`);
  return lines;
}

function findingLines(out: Output, findings: CheckFinding[]): string[] {
  if (findings.length === 0) return ['  (no findings)'];
  const lines: string[] = [];
  for (const f of findings) {
    const [color, word] = MARK[f.severity];
    lines.push(`  ${out.color(color, word)}  ${f.id.padEnd(28)} ${f.message}`);
    if (f.hint) lines.push(`  ${' '.repeat(9)}${' '.repeat(29)}→ ${f.hint}`);
  }
  return lines;
}

function verdict(out: Output, r: Pick<CheckResult, 'ok' | 'findings'>, who: string): string {
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  if (r.ok) return `${out.color(32, '✔')} ready to flash ${who}${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`;
  return `${out.color(31, '✘')} will not flash ${who}: ${errors} error${errors > 1 ? 's' : ''}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}`;
}

interface CheckCommandOptions {
  target: string;
  board: string | undefined;
  firmware: string | undefined;
  fix: boolean;
  common: CommonOptions;
}

const parse = ([target]: [string], raw: RawOptions): CheckCommandOptions => ({
  target,
  board: stringOption(raw.board),
  firmware: stringOption(raw.firmware),
  fix: !!raw.fix,
  common: parseCommon(raw),
});

async function run(o: CheckCommandOptions, out: Output): Promise<number> {
  const { check } = await import('../../flows/check.js');
  const r = await check({ target: o.target, board: o.board, ...boardsFileOf(o.common), firmware: o.firmware, fix: o.fix });
  if (out.json) out.result(r);
  else render(out, r, o.common.quiet, o.board);
  return r.ok ? 0 : 1;
}

function render(out: Output, r: CheckResult, quiet: boolean, board?: string): void {
  const who = r.board ? boardLabel(board, r.board) : 'a generic SD bootloader (no --board)';
  if (!quiet) for (const l of cardLines(r)) out.line(l);
  if (r.fix) {
    if (!quiet) {
      out.line('before --fix:');
      for (const l of findingLines(out, r.fix.before.findings)) out.line(l);
    }
    out.line(`before: ${verdict(out, r.fix.before, who)}`);
    if (r.fix.applied.length === 0) out.line('nothing that --fix repairs');
    for (const a of r.fix.applied) {
      const what = a.action.kind === 'delete' ? `deleted ${a.action.path}` : a.action.kind === 'rename' ? `renamed ${a.action.from} → ${a.action.to}` : `cleared orphaned long name "${a.action.text}" in ${a.action.dirPath}`;
      out.line(`  ${a.done ? 'fixed' : 'NOT fixed'}: ${what}${a.error ? ` (${a.error})` : ''}`);
    }
    if (!quiet) out.line('after --fix:');
  }
  if (!quiet) for (const l of findingLines(out, r.findings)) out.line(l);
  out.line(`${r.fix ? 'after: ' : ''}${verdict(out, r, who)}`);
}

export function register(program: Command): void {
  const cmd = program
    .command('check')
    .description('Read a card (or image) without writing and say whether the board\'s bootloader will flash from it, and how to fix what is wrong.')
    .argument('<target>', 'block device such as /dev/sdb, or an image file')
    .option('--board <name>', 'judge for this board (see `fwcard boards`); default: the generic SD-bootloader view')
    .option('--firmware <file>', 'also check that the card holds exactly this firmware')
    .option('--fix', 'remove macOS junk, rename a near-miss firmware name, clear orphaned long names; then check again');
  addCommonOptions(cmd, { boardsFile: true, json: true, quiet: 'print nothing; use the exit code', color: true })
    .addHelpText('after', `
Exit codes: 0 ready to flash, 1 problems found (at least one error), 2 could not check.
--json prints { ok, board, view, card, files, findings: [{ id, severity, message, hint }], bytesRead };
with --fix the top level is the verdict after the repairs, and fix.applied / fix.before say what was done.
Nothing is written without --fix; --fix never formats (the hints name the prepare command that would).

Examples:
  fwcard check /dev/sdb --board btt-octopus-f446-v1
  fwcard check card.img --board creality-v4.2.2 --firmware out/klipper.bin --json
  fwcard check /dev/sdb --board btt-skr-mini-e3-v3 --fix`)
    .action(action(parse, run));
}

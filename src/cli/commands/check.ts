import type { Command } from 'commander';
import type { CheckFinding, CheckResult } from '../../flows/check.js';
import { describeCheckedPartitions } from '../render/card-content.js';
import { formatBytes } from '../../util/size.js';
import { action } from '../action.js';
import { addCommonOptions, boardsFileOf, parseCommon, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { terminalWidth, wrap } from '../wrap.js';
import { adviceLines } from '../render/advice.js';

const MARK: Record<CheckFinding['severity'], [number, string]> = { error: [31, 'error  '], warning: [33, 'warning'], info: [36, 'info   '] };
/** Where a finding's message and hint start: under the id, past the severity column. */
const GUTTER = ' '.repeat(11);

function cardLines(r: CheckResult, width: number): string[] {
  const c = r.card;
  const lines = wrap(`card: ${r.target}, ${formatBytes(c.sizeBytes)} (${c.kind}), ${c.sectorSize}-byte sectors`, { first: '', rest: '  ', width });
  if (c.table !== 'none') lines.push(`  ${c.table.toUpperCase()}${c.hybridMbr ? ' (hybrid MBR)' : ''}, ${c.partitions.length} partition(s)`);
  const indent = c.table === 'none' ? '  ' : '    ';
  for (const l of describeCheckedPartitions(c)) lines.push(...wrap(l, { first: indent, rest: indent + '  ', width }));
  const v = c.volume;
  if (v && v.clusterBytes) lines.push(...wrap(`volume: ${v.fs}, ${formatBytes(v.clusterBytes)} clusters, ${v.clusterCount} clusters${v.label ? `, label "${v.label}"` : ''}`, { first: '  ', rest: '    ', width }));
  const f = r.files;
  if (f?.firmware) lines.push(...wrap(`firmware: ${f.firmware.path}, ${formatBytes(f.firmware.size)}${f.firmware.sha256 ? `, sha256 ${f.firmware.sha256.slice(0, 16)}…` : ''}`, { first: '  ', rest: '    ', width }));
  return lines;
}

/**
 * Each finding: severity and id, the message beneath, then the hint after an arrow; the
 * commands of its remedy each on a line of their own (`$ …`), whole, to paste.
 */
function findingLines(out: Output, findings: CheckFinding[], width: number): string[] {
  if (findings.length === 0) return ['  (no findings)'];
  const lines: string[] = [];
  for (const f of findings) {
    const [color, word] = MARK[f.severity];
    lines.push(`  ${out.color(color, word)}  ${f.id}`);
    lines.push(...wrap(f.message, { first: GUTTER, width }));
    if (f.hint) lines.push(...adviceLines(f.hint, f.remedy, { first: `${GUTTER}→ `, rest: `${GUTTER}  `, width }));
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
  else render(out, r, o.common.quiet);
  return r.ok ? 0 : 1;
}

function render(out: Output, r: CheckResult, quiet: boolean): void {
  const who = r.board ?? 'a generic SD bootloader (no --board)';
  const width = terminalWidth();
  const say = (text: string, first = '', rest = '  '): void => {
    for (const l of wrap(text, { first, rest, width })) out.line(l);
  };
  // With --fix, in the order it happened: what was wrong, what was done, what the card is now.
  if (r.fix) {
    if (!quiet) {
      out.line('before --fix:');
      for (const l of findingLines(out, r.fix.before.findings, width)) out.line(l);
    }
    say(`before: ${verdict(out, r.fix.before, who)}`);
    if (r.fix.applied.length === 0) out.line('nothing that --fix repairs');
    for (const a of r.fix.applied) {
      const what = a.action.kind === 'delete' ? `deleted ${a.action.path}` : a.action.kind === 'rename' ? `renamed ${a.action.from} → ${a.action.to}` : `cleared orphaned long name "${a.action.text}" in ${a.action.dirPath}`;
      say(`${a.done ? 'fixed' : 'NOT fixed'}: ${what}${a.error ? ` (${a.error})` : ''}`, '  ', '    ');
    }
    if (!quiet) out.line('after --fix:');
  }
  if (!quiet) for (const l of cardLines(r, width)) out.line(l);
  if (!quiet) for (const l of findingLines(out, r.findings, width)) out.line(l);
  say(`${r.fix ? 'after: ' : ''}${verdict(out, r, who)}`);
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

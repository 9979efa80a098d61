import type { Command } from 'commander';
import { check, type CheckFinding, type CheckResult } from '../../flows/check.js';
import { describeCheckedPartitions } from '../render/card-content.js';
import { formatBytes } from '../../util/size.js';
import { Output, reportError } from '../output.js';

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

export function register(program: Command): void {
  program
    .command('check')
    .description('Read a card (or image) without writing and say whether the board\'s bootloader will flash from it, and how to fix what is wrong.')
    .argument('<target>', 'block device such as /dev/sdb, or an image file')
    .option('--board <name>', 'judge for this board (see `fwcard boards`); default: the generic SD-bootloader view')
    .option('--firmware <file>', 'also check that the card holds exactly this firmware')
    .option('--fix', 'remove macOS junk, rename a near-miss firmware name, clear orphaned long names; then check again')
    .option('--boards-file <file>', 'extra or overriding board definitions (JSON)')
    .option('--json', 'print one JSON document on stdout')
    .option('-q, --quiet', 'print nothing; use the exit code')
    .option('--no-color', 'no colours')
    .addHelpText('after', `
Exit codes: 0 ready to flash, 1 problems found (at least one error), 2 could not check.
--json prints { ok, board, view, card, files, findings: [{ id, severity, message, hint }], bytesRead };
with --fix the top level is the verdict after the repairs, and fix.applied / fix.before say what was done.
Nothing is written without --fix; --fix never formats (the hints name the prepare command that would).

Examples:
  fwcard check /dev/sdb --board btt-octopus-f446-v1
  fwcard check card.img --board creality-v4.2.2 --firmware out/klipper.bin --json
  fwcard check /dev/sdb --board btt-skr-mini-e3-v3 --fix`)
    .action(async (target: string, o: Record<string, unknown>) => {
      const out = new Output({ json: !!o.json, quiet: !!o.quiet, color: o.color !== false });
      try {
        const r = await check({
          target,
          ...(o.board ? { board: String(o.board) } : {}),
          ...(o.boardsFile ? { boardsFile: String(o.boardsFile) } : {}),
          ...(o.firmware ? { firmware: String(o.firmware) } : {}),
          fix: !!o.fix,
        });
        const who = r.board ?? 'a generic SD bootloader (no --board)';
        if (out.json) {
          out.result(r);
        } else {
          if (!o.quiet) for (const l of cardLines(r)) out.line(l);
          if (r.fix) {
            if (!o.quiet) {
              out.line('before --fix:');
              for (const l of findingLines(out, r.fix.before.findings)) out.line(l);
            }
            out.line(`before: ${verdict(out, r.fix.before, who)}`);
            if (r.fix.applied.length === 0) out.line('nothing that --fix repairs');
            for (const a of r.fix.applied) {
              const what = a.action.kind === 'delete' ? `deleted ${a.action.path}` : a.action.kind === 'rename' ? `renamed ${a.action.from} → ${a.action.to}` : `cleared orphaned long name "${a.action.text}" in ${a.action.dirPath}`;
              out.line(`  ${a.done ? 'fixed' : 'NOT fixed'}: ${what}${a.error ? ` (${a.error})` : ''}`);
            }
            if (!o.quiet) out.line('after --fix:');
          }
          if (!o.quiet) for (const l of findingLines(out, r.findings)) out.line(l);
          out.line(`${r.fix ? 'after: ' : ''}${verdict(out, r, who)}`);
        }
        process.exitCode = r.ok ? 0 : 1;
      } catch (e) {
        process.exitCode = reportError(e, out);
      }
    });
}

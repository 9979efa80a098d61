import type { Command } from 'commander';
import { UsageError, advice } from '../../errors.js';
import type { CheckFinding, CheckResult } from '../../flows/check.js';
import { boardLabel } from '../../boards/label.js';
import type { CheckOverMcuResult } from '../../flows/check-remote.js';
import { describeCheckedPartitions } from '../render/card-content.js';
import { formatBytes } from '../../util/size.js';
import { action, stopOnCtrlC } from '../action.js';
import { KLIPPER_DEFAULT_BAUD, addCommonOptions, boardsFileOf, parseCommon, positiveInteger, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { ProgressView } from '../progress-view.js';
import { makeTrace } from '../trace.js';
import { terminalWidth, wrap } from '../wrap.js';
import { adviceLines } from '../render/advice.js';

const MARK: Record<CheckFinding['severity'], [number, string]> = { error: [31, 'error  '], warning: [33, 'warning'], info: [36, 'info   '] };
/** Where a finding's message and hint start: under the id, past the severity column. */
const GUTTER = ' '.repeat(11);

function cardLines(r: CheckResult | CheckOverMcuResult, width: number): string[] {
  const c = r.card;
  const m = 'mcu' in r ? r.mcu : null;
  const where = m ? `the card in ${r.board} on ${r.target} (${m.mcu}, ${m.bus})` : r.target;
  const lines = wrap(`card: ${where}, ${formatBytes(c.sizeBytes)} (${c.kind}), ${c.sectorSize}-byte sectors`, { first: '', rest: '  ', width });
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
  /** -b, only when given (a serial port target). */
  baud: number | undefined;
  fastSpi: boolean;
  common: CommonOptions;
}

const parse = ([target]: [string], raw: RawOptions): CheckCommandOptions => ({
  target,
  board: stringOption(raw.board),
  firmware: stringOption(raw.firmware),
  fix: !!raw.fix,
  baud: raw.b === undefined ? undefined : positiveInteger(raw.b, () => new UsageError('bad-baud', `-b ${String(raw.b)} is not a baud rate`, { hint: 'Use e.g. -b 250000 (Klipper default) or -b 115200.' })),
  fastSpi: !!raw.s,
  common: parseCommon(raw),
});

async function run(o: CheckCommandOptions, out: Output): Promise<number> {
  const { check, isSerialPort } = await import('../../flows/check.js');
  if (isSerialPort(o.target)) return runOverMcu(o, out);
  const r = await check({ target: o.target, board: o.board, ...boardsFileOf(o.common), firmware: o.firmware, fix: o.fix });
  if (out.json) out.result(r);
  else render(out, r, o.common.quiet, o.board);
  return r.ok ? 0 : 1;
}

/** The target is a serial port: read the card in the board through its MCU (flash-sdcard's link). */
async function runOverMcu(o: CheckCommandOptions, out: Output): Promise<number> {
  if (o.fix) {
    throw new UsageError('fix-in-board', '--fix does not write to the card through the board\'s MCU', {
      ...advice`Check without --fix to see what is wrong; ${{ argv: ['fwcard', 'flash-sdcard', o.target, o.board ?? '<board>'], why: 'uploads the firmware under the name the bootloader looks for' }} puts the firmware right, or take the card out and run ${{ argv: ['fwcard', 'check', '/dev/sdX', '--board', o.board ?? '<board>', '--fix'], why: 'repairs the names on a PC' }} in a card reader.`,
      details: { port: o.target },
    });
  }
  const { checkCardOverMcu } = await import('../../flows/check-remote.js');
  const view = await ProgressView.create({ quiet: o.common.quiet });
  const trace = makeTrace({ verbose: o.common.verbose, log: o.common.log });
  const ctrlC = stopOnCtrlC({
    first: 'stopping: the MCU is reset and the port let go (nothing is written to the card); press Ctrl-C again to stop at once',
    second: 'stopped at once: the MCU may be left set up for its SD card; power-cycle the board (or FIRMWARE_RESTART in Klipper) before Klipper uses it.',
  });
  let r: CheckOverMcuResult;
  try {
    r = await checkCardOverMcu({
      port: o.target, board: o.board, ...(o.baud !== undefined ? { baud: o.baud } : {}), fastSpi: o.fastSpi, ...boardsFileOf(o.common), ...(o.firmware ? { firmware: o.firmware } : {}),
      onProgress: view.listener, ...(trace ? { trace } : {}), signal: ctrlC.signal,
    });
    view.stop();
  } catch (e) {
    view.stop(true);
    throw e;
  } finally {
    ctrlC.dispose();
  }
  if (out.json) out.result(r);
  else render(out, r, o.common.quiet, o.board);
  return r.ok ? 0 : 1;
}

function render(out: Output, r: CheckResult | CheckOverMcuResult, quiet: boolean, board?: string): void {
  const who = r.board ? boardLabel(board, r.board) : 'a generic SD bootloader (no --board)';
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
  if (!quiet && 'mcu' in r) say(`read ${formatBytes(r.bytesRead)} of the card through the MCU in ${r.seconds.toFixed(1)} s (${r.mcu.serial ? `${formatBytes(r.mcu.serial.bytesToMcu + r.mcu.serial.bytesFromMcu)} over the serial link; ` : ''}the MCU was reset after)`);
  say(`${r.fix ? 'after: ' : ''}${verdict(out, r, who)}`);
}

export function register(program: Command): void {
  const cmd = program
    .command('check')
    .description('Read a card (or image) without writing and say whether the board\'s bootloader will flash from it, and how to fix what is wrong.')
    .argument('<target>', 'block device such as /dev/sdb, an image file, or the serial port of a board running Klipper (its card is read through the MCU; needs --board)')
    .option('--board <name>', 'judge for this board (see `fwcard boards`); default: the generic SD-bootloader view')
    .option('--firmware <file>', 'also check that the card holds exactly this firmware')
    .option('--fix', 'remove macOS junk, rename a near-miss firmware name, clear orphaned long names; then check again (not through a serial port)')
    .option('-b <baud>', `serial port: baud rate of a UART connection (default ${KLIPPER_DEFAULT_BAUD})`)
    .option('-s', 'serial port: fast SPI, 4 MHz instead of 400 kHz');
  addCommonOptions(cmd, { boardsFile: true, json: true, quiet: 'print nothing; use the exit code', color: true, verbose: 'serial port: trace the protocol and SD traffic on stderr', log: true })
    .addHelpText('after', `
Exit codes: 0 ready to flash, 1 problems found (at least one error), 2 could not check.
--json prints { ok, board, view, card, files, findings: [{ id, severity, message, hint }], bytesRead, seconds };
with --fix the top level is the verdict after the repairs, and fix.applied / fix.before say what was done.
Nothing is written without --fix; --fix never formats (the hints name the prepare command that would).

A serial port (a board running Klipper; stop the klipper service first) is
checked through its MCU over SPI or SDIO, with flash-sdcard's -b, -s and
--boards-file: the same findings and exit codes, reading a few KiB plus the
firmware file on any card size; --json adds mcu { port, mcu, bus, card, serial }.
The MCU is reset at the end, as after flash-sdcard -c; the hints name
flash-sdcard commands that work with the card in the board.

Examples:
  fwcard check /dev/sdb --board btt-octopus-f446-v1
  fwcard check card.img --board creality-v4.2.2 --firmware out/klipper.bin --json
  fwcard check /dev/sdb --board btt-skr-mini-e3-v3 --fix
  fwcard check /dev/serial/by-id/usb-Klipper_lpc1768_…-if00 --board btt-skr-v1.3`)
    .action(action(parse, run));
}

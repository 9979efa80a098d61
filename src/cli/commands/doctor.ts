import type { Command } from 'commander';
import type { DoctorResult } from '../../flows/doctor.js';
import { action } from '../action.js';
import { wrap } from '../wrap.js';
import { addCommonOptions, boardsFileOf, parseCommon, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';

const TAG: Record<DoctorResult['steps'][number]['kind'], [number, string]> = { fix: [31, 'fix'], do: [36, 'do'], 'if-needed': [33, 'only if needed'] };

function render(out: Output, r: DoctorResult): void {
  const models = r.board.models.slice(0, 3).join(' / ') + (r.board.models.length > 3 ? ' / …' : '');
  const who = models.toLowerCase().startsWith(r.board.vendor.toLowerCase()) ? models : `${r.board.vendor} ${models}`.trim();
  const alias = r.board.asTyped !== r.board.name ? `${r.board.name}: ` : '';
  for (const l of wrap(`Plan for the ${r.board.asTyped} (${alias}${who}; ${r.board.mcu})`, '', '  ')) out.line(l);
  if (r.fine.length) {
    out.line();
    out.line('What is fine:');
    for (const f of r.fine) for (const l of wrap(f, '  ✔ ', '    ')) out.line(l.replace('✔', out.color(32, '✔')));
  }
  out.line();
  out.line('What to do, in this order:');
  r.steps.forEach((s, i) => {
    const [color, word] = TAG[s.kind];
    // The tag goes on the title's last line, in colour; commands stay whole so they paste.
    const title = wrap(`${s.title} [${word}]`, `  ${i + 1}. `, '     ');
    title[title.length - 1] = title.at(-1)!.replace(`[${word}]`, out.color(color, `[${word}]`));
    for (const l of title) out.line(l);
    for (const d of s.details) for (const l of wrap(d, '     - ', '       ')) out.line(l);
    for (const c of s.commands) out.line(`     $ ${c}`);
  });
  out.line();
  const fixes = r.steps.filter((s) => s.kind === 'fix').length;
  const last = fixes ? `${out.color(31, '✘')} ${fixes} thing${fixes > 1 ? 's' : ''} to fix before the board will flash (steps marked [fix]).` : `${out.color(32, '✔')} nothing to fix${r.firmware || r.card ? '' : ' that fwcard could see (give --firmware and --card to check them)'}.`;
  for (const l of wrap(last, '', '  ')) out.line(l);
}

interface DoctorCommandOptions {
  /** None: pick one on a terminal, else a usage error naming --board. */
  board: string | undefined;
  firmware: string | undefined;
  card: string | undefined;
  rebuilt: string | undefined;
  port: string | undefined;
  common: CommonOptions;
}

const parse = (_args: [], raw: RawOptions): DoctorCommandOptions => ({
  board: stringOption(raw.board),
  firmware: stringOption(raw.firmware),
  card: stringOption(raw.card),
  rebuilt: stringOption(raw.rebuilt),
  port: stringOption(raw.port),
  common: parseCommon(raw),
});

async function run(o: DoctorCommandOptions, out: Output): Promise<number> {
  const { completeDoctorBoard } = await import('../interactive/doctor-board.js');
  const board = await completeDoctorBoard({ board: o.board, firmware: o.firmware, json: out.json, ...boardsFileOf(o.common) });
  const { doctor } = await import('../../flows/doctor.js');
  const r = await doctor({ board, firmware: o.firmware, card: o.card, ...(o.rebuilt ? { rebuilt: o.rebuilt } : {}), ...(o.port ? { port: o.port } : {}), ...boardsFileOf(o.common) });
  if (out.json) out.result(r);
  else render(out, r);
  return r.ok ? 0 : 1;
}

export function register(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('Inspect the firmware and check the card for a board, then print a numbered plan: what is fine, what to fix in which order with the exact commands, and what the board does at power-up.')
    .option('--board <name>', 'your board (see `fwcard boards`); none on a terminal: pick one')
    .option('--firmware <file>', 'the firmware you want on the board (e.g. out/klipper.bin)')
    .option('--card <target>', 'the card (/dev/sdX, see `fwcard drives`) or an image file; read only')
    .option('--port <device>', 'where you expect the board (/dev/serial/by-id/…): doctor says whether it is there and what answers')
    .option('--rebuilt <file>', 'where the firmware will be after a rebuild, for the commands that follow it (default ~/klipper/out/klipper.bin)');
  addCommonOptions(cmd, { boardsFile: true, json: true, color: true })
    .addHelpText('after', `
Nothing is written. Exit codes: 0 nothing to fix, 1 something to fix (steps of kind "fix"), 2 could not run.

Examples:
  fwcard doctor --board btt-octopus-f446-v1
  fwcard doctor --board btt-octopus-f446-v1 --firmware out/klipper.bin --card /dev/sdb
  fwcard doctor --board creality-v4.2.2 --firmware klipper.bin --card card.img --json
  fwcard doctor --firmware out/klipper.bin    # on a terminal: pick the board`)
    .action(action(parse, run));
}

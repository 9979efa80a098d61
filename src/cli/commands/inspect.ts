import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { UsageError, fromSystemError, hasCode } from '../../errors.js';
import { adviceLines } from '../render/advice.js';
import { hex } from '../../firmware/mcu-memory.js';
import type { FirmwareReport } from '../../firmware/report.js';
import { action } from '../action.js';
import { addCommonOptions, boardsFileOf, parseCommon, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { terminalWidth, wrap } from '../wrap.js';

function show(out: Output, file: string, r: FirmwareReport, verbose: boolean): void {
  const width = terminalWidth();
  const say = (text: string, first = '  ', rest = first + '  '): void => {
    for (const l of wrap(text, { first, rest, width })) out.line(l);
  };
  say(`${basename(file)}: ${r.format}, ${r.size.toLocaleString('en')} bytes${r.imageSize !== r.size ? ` (${r.imageSize.toLocaleString('en')} decoded)` : ''}`, '');
  if (r.linkedFor) say(`linked for ${r.linkedFor}`);
  else if (r.candidates.length > 1) say(`linked for one of: ${r.candidates.map(hex).join(', ')}`);
  if (verbose && r.linkEvidence.length) {
    say('link-address evidence (handlers inside / flash pointers inside / VTOR literal):');
    for (const e of r.linkEvidence) {
      out.line(`    ${hex(e.base)}  ${e.handlersInside ? 'yes' : 'no '}  ${e.pointerRatio === null ? '  -  ' : `${(e.pointerRatio * 100).toFixed(1).padStart(5)}%`}  ${e.vtorLiteral ? 'yes' : 'no'}`);
    }
  }
  if (r.mcu) say(`MCU: ${r.mcu}`);
  else if (r.family) say(`MCU family: ${r.family}`);
  if (r.klipper) {
    const k = r.klipper;
    say(`Klipper ${k.version ?? '?'}${k.clockFreq ? `, ${k.clockFreq / 1e6} MHz` : ''}, interface ${k.interface.kind}${k.interface.pins.length ? ` (${k.interface.pins.join(', ')})` : ''}${k.interface.baud ? ` ${k.interface.baud} baud` : ''}${k.interface.canFrequency ? ` ${k.interface.canFrequency} bit/s` : ''}`);
    if (k.buildVersions) say(`built with ${k.buildVersions}`);
  }
  if (r.marlin) say(`Marlin ${r.marlin.version}${r.marlin.machine ? ` for "${r.marlin.machine}"` : ''}${r.marlin.built ? `, built ${r.marlin.built}` : ''}`);
  const problems = r.findings.filter((f) => f.severity !== 'info');
  const notes = r.findings.filter((f) => f.severity === 'info' && f.id !== 'linked-for' && f.id !== 'klipper' && f.id !== 'marlin');
  for (const f of notes) say(f.message);
  for (const f of problems) {
    say(f.message, `${f.severity}: `, '  ');
    // The hint's command (its remedy) goes whole on a line of its own.
    if (f.hint) for (const l of adviceLines(f.hint, f.remedy, { first: '  hint: ', rest: '        ', width })) out.line(l);
  }
  if (r.board) {
    const errors = problems.filter((f) => f.severity === 'error').length;
    say(errors ? `Not suitable for ${r.board}.` : `OK for ${r.board}${problems.length ? ' (see the warnings)' : ''}.`, '');
  }
}

interface InspectOptions {
  file: string;
  board: string | undefined;
  /** --to-bin: write the flat image (what objcopy -O binary makes of an ELF or Intel HEX file). */
  toBin: string | undefined;
  common: CommonOptions;
}

const parse = ([file]: [string], raw: RawOptions): InspectOptions => ({ file, board: stringOption(raw.board), toBin: stringOption(raw.toBin), common: parseCommon(raw) });

/**
 * Write the image to `path`, which must not exist: fwcard never overwrites a file it did not
 * create (a vendor's bootloader .bin next to the .hex, say).
 */
function writeImage(path: string, image: Uint8Array): void {
  try {
    writeFileSync(path, image, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError('output-exists', `${path} already exists; fwcard does not overwrite it`, {
        hint: 'Give --to-bin a new file name, or move the old file away first.',
        details: { path },
      });
    }
    throw fromSystemError(e, path, 'write the image');
  }
}

async function run(o: InspectOptions, out: Output): Promise<number | void> {
  const [{ loadCatalog }, { inspectFirmware }] = await Promise.all([import('../../boards/catalog.js'), import('../../firmware/inspect.js')]);
  const board = o.board ? loadCatalog(boardsFileOf(o.common)).get(o.board) : undefined;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(o.file));
  } catch (e) {
    const err = fromSystemError(e, o.file, 'read the firmware file');
    if (hasCode(err, 'not-found')) throw (await import('../../flows/firmware-file.js')).firmwareMissing(o.file);
    throw err;
  }
  const report = inspectFirmware(bytes, { ...(board ? { board } : {}), fileName: o.file });
  const ok = !report.findings.some((f) => f.severity === 'error');
  let written: { path: string; bytes: number } | undefined;
  if (o.toBin) {
    // An ELF or HEX file that could not be read has no image to write: say so, write nothing.
    const broken = report.findings.find((f) => UNCONVERTIBLE.has(f.id));
    if (broken) throw new UsageError('not-convertible', `${o.file}: no image to write: ${broken.message}`, { hint: broken.hint || 'Use the build’s out/klipper.bin, or download the file again.', details: { path: o.file } });
    const { firmwareImage } = await import('../../firmware/containers.js');
    const image = firmwareImage(bytes);
    writeImage(o.toBin, image);
    written = { path: o.toBin, bytes: image.byteLength };
  }
  if (out.json) out.result({ ok, file: o.file, ...report, ...(written ? { written } : {}) });
  else {
    show(out, o.file, report, o.common.verbose);
    if (written) for (const l of wrap(`wrote ${written.path}: the flat image, ${written.bytes.toLocaleString('en')} bytes${report.linkAddress?.value != null ? `, to be written at 0x${report.linkAddress.value.toString(16).padStart(8, '0')}` : ''}`, { first: '', rest: '  ' })) out.line(l);
  }
  // --to-bin asked for a conversion, and it was done: the findings are shown, the exit is 0.
  if (!ok && !written) return 1;
}

/** Findings that leave an ELF or Intel HEX file without an image (firmware/containers.ts). */
const UNCONVERTIBLE = new Set(['elf-unreadable', 'elf-not-arm', 'elf-empty', 'hex-damaged', 'hex-empty']);

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .argument('<firmware>', 'the firmware file (e.g. out/klipper.bin)')
    .description('Say what a firmware file is: the flash address it was linked for, MCU, Klipper or Marlin build; with --board, whether that board’s stock bootloader will take and start it.')
    .option('--board <name>', 'check the file against this board (see `fwcard boards`)')
    .option('--to-bin <file>', 'also write the flat binary image (of an ELF or Intel HEX file, as objcopy -O binary makes it) to this new file; exit 0 once written');
  addCommonOptions(cmd, { boardsFile: 'add or override boards from a JSON file', json: true, verbose: 'also show the evidence for each link address tried' })
    .addHelpText('after', '\nExamples:\n  fwcard inspect out/klipper.bin\n  fwcard inspect out/klipper.bin --board btt-octopus-f446-v1\n  fwcard inspect firmware.bin --board creality-v4.2.2 --json\n  fwcard inspect bootloader.hex --to-bin bootloader.bin\n\nExit status: 0 when nothing is wrong, 1 when the file has an error finding, 2 when it could not be read.')
    .action(action(parse, run));
}

import type { Command } from 'commander';
import { boardLabel } from '../../boards/label.js';
import type { Board } from '../../boards/types.js';
import { UsageError } from '../../errors.js';
import type { FlashPlan, FlashSdcardOptions, FlashSdcardResult } from '../../flows/flash-sdcard/index.js';
import { formatBytes } from '../../util/size.js';
import { action, stopOnCtrlC } from '../action.js';
import { KLIPPER_DEFAULT_BAUD, addCommonOptions, boardsFileOf, parseCommon, positiveInteger, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { ProgressView } from '../progress-view.js';
import { makeTrace } from '../trace.js';
import { repairPlanLines, repairResultLines } from '../render/repair.js';

function listBoards(out: Output, catalog: Board[]): void {
  const boards = catalog.filter((b) => b.klipper);
  if (out.json) {
    out.result({ ok: true, boards: boards.map((b) => ({ name: b.name, aliases: b.aliases, mcu: b.klipper!.mcu, bus: b.klipper!.bus.kind, verify: b.klipper!.skipVerify ? 'deferred' : 'after-reset' })) });
    return;
  }
  out.line('Available Boards:');
  for (const b of boards) {
    for (const n of [b.name, ...b.aliases]) out.line(n);
  }
}

function human(out: Output, r: FlashSdcardResult, typed?: string): void {
  const board = boardLabel(typed, r.board);
  if (!r.uploaded) {
    out.line(`${out.color(32, '✔')} ${board} on ${r.device} runs ${r.version ?? 'the expected firmware'} (verified by ${r.verification})`);
  } else if (r.verification === 'deferred') {
    out.line(`${out.color(32, '✔')} uploaded ${r.firmwarePath} to the card in ${board} and verified it on the card (sha256 ${r.sha256.slice(0, 16)}…)`);
    out.line(`${out.color(33, '!')} ${r.next}`);
  } else {
    out.line(`${out.color(32, '✔')} ${board} on ${r.device} now runs ${r.version} (verified by ${r.verification})`);
  }
  if (r.repair) for (const l of repairResultLines(r.repair)) out.line(l);
  if (r.card) out.line(`  card: ${r.card.type} ${formatBytes(r.card.capacityBytes)}${r.card.manufacturer ? `, ${r.card.manufacturer}` : ''}`);
  if (r.uploaded) out.line(`  upload + read-back: ${formatBytes(r.firmwareSize)} in ${(r.uploadMs / 1000).toFixed(2)}s (${formatBytes(r.bytesPerSecond)}/s)`);
  for (const p of r.removed) out.line(`  removed old ${p}`);
  if (r.leftoverDeleted) out.line('  deleted the firmware file the bootloader left on the card (it would flash at every power-up)');
  const u = r.interruptedUpdate;
  if (u.status === 'undone' && u.written) out.line(`  undid a card update an earlier fwcard run left half-written (started ${u.started}; ${u.written} of its ${u.sectors} sectors put back)`);
  if (u.status === 'stale') {
    out.line(`${out.color(33, '!')} found a record of a card update an earlier run left unfinished, but could not undo it: ${u.reason}`);
    out.line(`  It may have left lost clusters (space only). On a PC, \`fsck.fat -a\` on the card's partition reclaims them. Record kept at ${u.keptAt}.`);
  }
}

/** --dry-run: the plan, in the order the run would carry it out. */
function planLines(out: Output, p: FlashPlan, typed?: string): void {
  out.line(`Plan for ${boardLabel(typed, p.board)} on ${p.device} (${p.mcu}, runs ${p.previousVersion ?? 'an unknown version'}); nothing was written to the card:`);
  out.line(`  card: ${p.card.type} ${formatBytes(p.card.capacityBytes)}${p.card.manufacturer ? `, ${p.card.manufacturer}` : ''} over ${p.bus}; ${p.files.length ? `holds ${p.files.join(', ')}` : 'no files in the firmware folder'}`);
  if (p.repair) for (const l of repairPlanLines(p.repair, { dryRun: true })) out.line(l);
  if (p.pendingUndo) out.line(`  first undo the card update an earlier run left half-written (record ${p.pendingUndo})`);
  if (p.upload) {
    out.line(`  upload ${p.firmware.path} (${formatBytes(p.firmware.size)}, sha256 ${p.firmware.sha256.slice(0, 16)}…) as ${p.upload.temporary}, read it back, compare`);
    for (const r of p.removals) out.line(`  remove old ${r}`);
    out.line(`  ${p.upload.replaces ? 'replace' : 'create'} ${p.upload.path}`);
    out.line(p.after === 'reset' ? '  reset the MCU so the bootloader flashes it, then reconnect' : '  stop: the bootloader flashes it after a power cycle');
  } else {
    out.line(`  compare ${p.firmwarePath} on the card with ${p.firmware.path}`);
    for (const r of p.removals) out.line(`  once verified, delete ${r} (it would flash at every power-up)`);
  }
  const v = p.verification;
  out.line(v.methods[0] === 'deferred' ? `  verification deferred: ${v.reason}` : `  verify by ${v.methods.join(' or ')}: ${v.reason}`);
}

/** -l lists the boards; otherwise a flash (or with -c a check) of one board. */
type FlashSdcardCommandOptions =
  | { list: true; common: CommonOptions }
  | {
      list: false;
      device: string;
      board: string;
      baud: number;
      firmware: string | undefined;
      dictionary: string | undefined;
      checkOnly: boolean;
      fastSpi: boolean;
      force: boolean;
      dryRun: boolean;
      format: boolean;
      yes: boolean;
      common: CommonOptions;
    };

function parse([device, board]: [string | undefined, string | undefined], raw: RawOptions): FlashSdcardCommandOptions {
  const common = parseCommon(raw);
  if (raw.l) return { list: true, common };
  if (!device || !board) {
    throw new UsageError('missing-arguments', 'flash-sdcard needs <device> and <board>', {
      hint: 'Usage: fwcard flash-sdcard [-c] [-s] [-b <baud>] [-f <firmware>] [-d <dictionary>] <device> <board>; -l lists boards.',
    });
  }
  if (raw.format && raw.c) {
    throw new UsageError('format-with-check', '--format re-creates the card before an upload; -c uploads nothing', { hint: 'Leave -c out to repair the card and upload, or --format out to check.' });
  }
  const baud = positiveInteger(raw.b, () => new UsageError('bad-baud', `-b ${String(raw.b)} is not a baud rate`, { hint: 'Use e.g. -b 250000 (Klipper default) or -b 115200.' }));
  return { list: false, device, board, baud, firmware: stringOption(raw.f), dictionary: stringOption(raw.d), checkOnly: !!raw.c, fastSpi: !!raw.s, force: !!raw.force, dryRun: !!raw.dryRun, format: !!raw.format, yes: !!raw.yes, common };
}

async function run(o: FlashSdcardCommandOptions, out: Output): Promise<void> {
  if (o.list) {
    const { loadCatalog } = await import('../../boards/catalog.js');
    listBoards(out, loadCatalog(boardsFileOf(o.common)).all());
    return;
  }
  const { flashSdcard, planFlashSdcard } = await import('../../flows/flash-sdcard/index.js');
  const view = await ProgressView.create({ quiet: o.common.quiet });
  const trace = makeTrace({ verbose: o.common.verbose, log: o.common.log });
  const ctrlC = stopOnCtrlC({
    first: 'stopping at the next safe point (never inside a card update); press Ctrl-C again to stop at once',
    second: 'stopped at once. If a card update was being written, the next run undoes it (fwcard keeps a record of it on this computer); run the same command again to complete the update.',
  });
  try {
    const flow: FlashSdcardOptions = {
      device: o.device,
      board: o.board,
      baud: o.baud,
      firmware: o.firmware,
      dictionary: o.dictionary,
      checkOnly: o.checkOnly,
      fastSpi: o.fastSpi,
      force: o.force,
      format: o.format,
      confirmRepair: async (s) => {
        view.stop();
        if (!o.yes) for (const l of ['Repair of the card in the board:', ...repairPlanLines(s, { dryRun: false })]) process.stderr.write(`${l}\n`);
        const { confirmDestructive } = await import('../confirm.js');
        return confirmDestructive('This will ERASE everything on the card in the board.', { yes: o.yes });
      },
      ...boardsFileOf(o.common),
      onProgress: (e) => {
        view.listener(e);
        trace?.('progress', `${e.phase}: ${e.label}${e.bytes !== undefined ? ` ${e.bytes}/${e.total ?? '?'}` : ''}`);
      },
      ...(trace ? { trace } : {}),
      signal: ctrlC.signal,
    };
    if (o.dryRun) {
      const plan = await planFlashSdcard(flow);
      view.stop();
      if (out.json) out.result({ ok: true, dryRun: true, plan });
      else planLines(out, plan, o.board);
      return;
    }
    const result = await flashSdcard(flow);
    view.stop();
    if (out.json) out.result({ ok: true, ...result });
    else human(out, result, o.board);
  } catch (e) {
    view.stop(true);
    throw e;
  } finally {
    ctrlC.dispose();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('flash-sdcard')
    .description("Update a board that runs Klipper through its own SD card, over serial (Klipper's scripts/flash-sdcard.sh, same flags).")
    .argument('[device]', 'serial device of the board, e.g. /dev/serial/by-id/usb-Klipper_stm32f446xx_…')
    .argument('[board]', 'board name (-l lists them)')
    .option('-l', 'list the boards', false)
    .option('-c', 'check only: verify the firmware the board runs / holds, upload nothing', false)
    .option('-s', 'fast SPI: 4 MHz instead of 400 kHz', false)
    .option('-b <baud>', 'baud rate of a UART connection', String(KLIPPER_DEFAULT_BAUD))
    .option('-f <firmware>', 'firmware file (default ~/klipper/out/klipper.bin)')
    .option('-d <dictionary>', 'klipper.dict of the build, to verify the version (default ~/klipper/out/klipper.dict if present)')
    .option('--dry-run', 'connect, read the card and print the plan; write nothing to the card')
    .option('--force', 'upload even if the firmware check reports an error')
    .option('--format', "re-create the card in the board when its bootloader cannot read it (exFAT, NTFS, GPT, …): a small FAT volume; asks first, never touches a readable card")
    .option('-y, --yes', 'with --format: do not ask (needed without a terminal)');
  addCommonOptions(cmd, { boardsFile: true, json: true, quiet: true, verbose: 'trace the protocol and SD traffic on stderr', log: true })
    .addHelpText('after', `
Examples:
  sudo service klipper stop
  fwcard flash-sdcard /dev/serial/by-id/usb-Klipper_lpc1768_1234-if00 btt-skr-v1.3
  fwcard flash-sdcard -f out/klipper.bin -d out/klipper.dict /dev/ttyAMA0 btt-skr-mini-v3 -b 250000
  fwcard flash-sdcard -c /dev/serial/by-id/usb-Klipper_stm32f446xx_… btt-octopus-f446-v1   # after the power cycle`)
    .action(action(parse, run));
}

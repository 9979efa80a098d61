import { advice, type Remedy } from '../../errors.js';
import type { CheckRules } from './rules.js';

export interface HintContext {
  /** The card or image as the user named it. */
  target: string;
  rules: CheckRules;
  /** --firmware, when given. */
  firmwarePath: string | null;
  /** Set when the card sits in a board, read through its MCU (`check <serial port> --board …`). */
  inBoard?: InBoard | null;
}

/**
 * The card in a board, behind its MCU: the commands that fix it run over the same serial link
 * (`flash-sdcard`), and what only a PC can do needs the card taken out into a card reader.
 */
export interface InBoard {
  /** The serial port and the board, as the user typed them. */
  port: string;
  board: string;
  /** The connection flags the user gave (-b 115200, -s, --boards-file f), repeated in the commands. */
  flags: string[];
}

/** What a PC command names as the card: the target, or a card reader's device once the card is out of the board. */
export const pcDevice = (ctx: HintContext): string => (ctx.inBoard ? '/dev/sdX' : ctx.target);

/** The flash-sdcard command over the same link, in Klipper's flag order: [--format] [flags] [-f fw] <port> <board>. */
function inBoardRemedy(b: InBoard, firmwarePath: string | null, format: boolean): Remedy {
  return {
    argv: ['fwcard', 'flash-sdcard', ...(format ? ['--format'] : []), ...b.flags, ...(firmwarePath ? ['-f', firmwarePath] : []), b.port, b.board],
    why: format
      ? "writes a new partition table and a FAT volume the board's bootloader reads, through the board's MCU, then uploads the firmware (this erases the card)"
      : "uploads the firmware through the board's MCU under the name its bootloader looks for; the other files stay",
  };
}

/**
 * The exact `fwcard prepare` command that fixes a card-level problem. Formatting options
 * follow the board's rules (FAT32-only boards, cluster limits); placeholders stand where the
 * user has to fill in (no --board, no --firmware). `extra` arguments go last.
 */
export function prepareRemedy(ctx: HintContext, opts: { noFormat?: boolean; extra?: string[] } = {}): Remedy {
  // In the board, flash-sdcard --format picks a layout for the link itself (a small volume).
  if (ctx.inBoard) return inBoardRemedy(ctx.inBoard, ctx.firmwarePath, !opts.noFormat);
  const argv = ['fwcard', 'prepare', ctx.target, '--board', ctx.rules.board?.name ?? '<your-board>', '--firmware', ctx.firmwarePath ?? '<firmware.bin>'];
  if (opts.noFormat) {
    argv.push('--no-format');
  } else {
    const fs = ctx.rules.fileSystems;
    if (ctx.rules.board && fs.includes('FAT32') && !fs.includes('FAT16')) argv.push('--fs', 'fat32');
    if (ctx.rules.maxClusterBytes.known && ctx.rules.maxClusterBytes.value < 32768) argv.push('--cluster', String(ctx.rules.maxClusterBytes.value));
  }
  argv.push(...(opts.extra ?? []));
  const why = opts.noFormat
    ? 'writes the firmware under the name the bootloader looks for and verifies it; the other files stay'
    : 'partitions and formats the card the way the board reads it and writes the firmware (this erases the card)';
  return { argv, why };
}

/** `fwcard check <target> [--board …] [--firmware …] [--fix]`: judge the card (again), or repair its names. */
export function checkRemedy(target: string, opts: { board?: string | null; firmware?: string | null; fix?: boolean } = {}): Remedy {
  return {
    argv: ['fwcard', 'check', target, ...(opts.board ? ['--board', opts.board] : []), ...(opts.firmware ? ['--firmware', opts.firmware] : []), ...(opts.fix ? ['--fix'] : [])],
    why: opts.fix ? 'deletes the junk, renames near-miss names and clears orphaned long names, then checks again; no formatting' : 'checks the card, writing nothing',
  };
}

/** `fwcard check <target> --board … --fix`; for a card in a board, on a PC once the card is out (--fix does not write over the MCU). */
export function fixRemedy(ctx: HintContext): Remedy {
  const r = checkRemedy(pcDevice(ctx), { board: ctx.rules.board?.name ?? null, fix: true });
  return ctx.inBoard ? { ...r, why: `with the card taken out of the board and in a card reader: ${r.why}` } : r;
}

/** A command that is not fwcard's, for a hint that names one. */
export const tool = (argv: string[], why: string): Remedy => ({ argv, why });

/** A hint for a problem only re-formatting fixes. */
export function reformatHint(ctx: HintContext, why = ''): { hint: string; remedy?: Remedy } {
  return advice`${why ? why + ' ' : ''}Re-create the card (this erases it): ${prepareRemedy(ctx)}`;
}

/** What running a remedy does to the card, as `doctor` orders its steps. */
export type RemedyKind = 'reformat' | 'rewrite-firmware' | 'fix-names' | 'other';

/** The kind of a remedy this module built (the argv of `prepareRemedy` and `fixRemedy`). */
export function remedyKind(r: Remedy): RemedyKind {
  const [prog, cmd] = r.argv;
  if (prog !== 'fwcard') return 'other';
  if (cmd === 'prepare') return r.argv.includes('--no-format') ? 'rewrite-firmware' : 'reformat';
  if (cmd === 'flash-sdcard') return r.argv.includes('--format') ? 'reformat' : 'rewrite-firmware';
  if (cmd === 'check' && r.argv.includes('--fix')) return 'fix-names';
  return 'other';
}

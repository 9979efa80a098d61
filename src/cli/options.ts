import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';

/**
 * The flags several commands share, declared once. A command says which it has and, where the
 * flag means something narrower for it, its own help text (`-q` is "no progress output" for a
 * writer but "print nothing; use the exit code" for `check`).
 */
export interface CommonFlags {
  boardsFile?: true | string;
  json?: true | string;
  quiet?: true | string;
  /** --no-color */
  color?: true;
  verbose?: string;
  log?: true;
}

/** The common options of one run, typed: what every action reads instead of commander's bag. */
export interface CommonOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  color: boolean;
  log: string | undefined;
  boardsFile: string | undefined;
}

/** What commander hands an action: option values by camel-cased name. Read only by the parse functions. */
export type RawOptions = Record<string, unknown>;

const text = (given: true | string, fallback: string): string => (given === true ? fallback : given);

/** Add the common flags a command has, after its own, always in the same order. */
export function addCommonOptions(cmd: Command, flags: CommonFlags): Command {
  if (flags.boardsFile) cmd.addOption(new Option('--boards-file <file>', text(flags.boardsFile, 'extra or overriding board definitions (JSON)')));
  if (flags.json) cmd.addOption(new Option('--json', text(flags.json, 'print one JSON document on stdout')));
  if (flags.quiet) cmd.addOption(new Option('-q, --quiet', text(flags.quiet, 'no progress output')));
  if (flags.color) cmd.addOption(new Option('--no-color', 'no colours'));
  if (flags.verbose) cmd.addOption(new Option('-v, --verbose', flags.verbose));
  if (flags.log) cmd.addOption(new Option('--log <file>', 'append a full trace to a file (for bug reports)'));
  return cmd;
}

/** A string option, or undefined when not given. */
export const stringOption = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** The common options out of commander's values (absent flags read as their defaults). */
export function parseCommon(raw: RawOptions): CommonOptions {
  return {
    json: !!raw.json,
    quiet: !!raw.quiet,
    verbose: !!raw.verbose,
    color: raw.color !== false,
    log: stringOption(raw.log),
    boardsFile: stringOption(raw.boardsFile),
  };
}

/** The catalog options a flow takes: { boardsFile } only when one was given. */
export const boardsFileOf = (c: { boardsFile: string | undefined }): { boardsFile?: string } => (c.boardsFile ? { boardsFile: c.boardsFile } : {});

/** A whole positive number (baud rates, milliseconds), or the UsageError the caller describes. */
export function positiveInteger(raw: unknown, error: () => UsageError): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw error();
  return n;
}

/**
 * Klipper's default UART baud rate (its Kconfig SERIAL_BAUD), the default of -b and --link.
 * Kept here rather than imported from the flash-sdcard flow, which would load that whole flow
 * (and the SD and FAT code under it) to print `--help`.
 */
export const KLIPPER_DEFAULT_BAUD = 250000;

/**
 * Typed errors shared by every layer; only `cli/` turns them into text and exit codes. Each has
 * a stable `code`, a `hint` in the user's words, `details` typed per code (in --json output)
 * and, where the hint names a command, that command as a `remedy`. Every code belongs to one
 * family (one class): the maps below say which, and what details it carries;
 * test/errors/error-codes.test.ts scans src/ so no code is thrown unregistered or by two classes.
 */

/** Details of a code no map below describes (or of an error revived from a worker). */
export type ErrorDetails = Record<string, unknown>;
/** A code that carries no details. */
export type NoDetails = Record<string, never>;

/**
 * What to run about a problem: a command as argv (one argument a word; a `<…>` word is for
 * the user to fill in), and why. Hints embed the rendered command (`commandLine`), and `doctor`
 * takes its commands from here, so the two always agree.
 */
export interface Remedy {
  argv: string[];
  /** What running it does, in the user's words ("re-creates the card; this erases it"). */
  why: string;
  /** Other commands that also fix it, in the order the hint gives them. */
  alternatives?: Remedy[];
}

/** Shell words that need no quoting; `<…>` placeholders are left bare for the user to replace. */
const PLAIN_WORD = /^([\w./@:+-]|<[^<>'\s]*>)+$/;

/** One argument as a POSIX shell word. */
export function shellWord(s: string): string {
  return PLAIN_WORD.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line of a remedy, as the user types it. */
export function commandLine(r: Remedy | string[]): string {
  return (Array.isArray(r) ? r : r.argv).map(shellWord).join(' ');
}

/** The remedy and its alternatives, in order. */
export function remedyCommands(r: Remedy | undefined): Remedy[] {
  return r ? [r, ...(r.alternatives ?? [])] : [];
}

/**
 * A hint with its commands: `advice\`Rename it: ${fix}.\`` renders each interpolated remedy as
 * its backticked command line, and returns the first remedy (the others as its alternatives).
 */
export function advice(text: TemplateStringsArray, ...parts: (Remedy | string | number)[]): { hint: string; remedy?: Remedy } {
  const remedies = parts.filter((p): p is Remedy => typeof p === 'object');
  const hint = text.reduce((out, s, i) => {
    const p = parts[i - 1]!;
    return out + (typeof p === 'object' ? `\`${commandLine(p)}\`` : String(p)) + s;
  });
  if (!remedies.length) return { hint };
  const [first, ...rest] = remedies;
  return { hint, remedy: rest.length ? { ...first!, alternatives: rest } : first! };
}

// ---------------------------------------------------------------------------------------------
// The codes of each family and their details.

type PathDetails = {
  path: string;
};
type FindingList = { findings: { id: string; severity: string; message: string; hint: string }[] };

/** The user asked for something that cannot work (bad flag, impossible layout, unknown board). */
export interface UsageCodes {
  'bad-baud': NoDetails;
  'bad-boards-file': { file: string; where?: string };
  'bad-cluster': NoDetails;
  'bad-cluster-count': { fs: string; clusterBytes: number; clusterCount: number };
  'bad-faults': NoDetails;
  'bad-image-size': NoDetails;
  'bad-label': NoDetails;
  'bad-lba': NoDetails;
  'bad-link': NoDetails;
  'bad-partition': NoDetails;
  'bad-size': NoDetails;
  'bad-timeout': NoDetails;
  cancelled: NoDetails;
  'cluster-too-large-for-board': NoDetails;
  'empty-image': NoDetails;
  'fat-invalid-name': FatDetails;
  'fat16-too-large': { bytes: number };
  'firmware-does-not-fit': NoDetails;
  'firmware-empty': PathDetails;
  'firmware-is-directory': PathDetails;
  'firmware-missing': PathDetails;
  'firmware-too-large': PathDetails & { size: number };
  'format-options-without-format': NoDetails;
  'image-missing': PathDetails;
  'impossible-layout': { fs: string; bytes: number };
  /** A run stopped at a safe point at the user's request (Ctrl-C); exit 130. `state`: what the card holds. */
  interrupted: { state: string; where: string };
  'missing-arguments': NoDetails;
  'missing-board': { missing: string[] };
  'missing-target': { missing: string[] };
  'no-drives': NoDetails;
  'no-flash-sdcard-definition': NoDetails;
  'not-a-block-device': NoDetails;
  'not-a-mac-disk': PathDetails;
  'not-a-windows-disk': PathDetails;
  'not-an-image': NoDetails;
  'partition-too-large': NoDetails;
  /** simulate --port-link: something that is not the simulator's own link is at the path. */
  'port-link-exists': PathDetails & { what: string };
  'output-exists': PathDetails;
  /** simulate: no model of this MCU (Klipper does not support it, or the simulator has no profile). */
  'sim-unsupported-mcu': NoDetails;
  'not-convertible': PathDetails;
  'read-only-entry': NoDetails;
  'sector-size': NoDetails;
  'size-on-device': NoDetails;
  'target-is-directory': PathDetails;
  'target-is-partition': PathDetails & { disk: string };
  'too-large': NoDetails;
  'too-small': NoDetails;
  'unaligned-io': NoDetails;
  'unknown-board': { board?: string; query?: string; suggestions: string[] };
  'unsupported-platform': NoDetails;
  usage: { commander: string };
  'format-with-check': NoDetails;
  /** `firmware-<finding id>`: the firmware check refused the build (prepare, flash-sdcard). */
  [firmwareCheck: `firmware-${string}`]: FindingList | PathDetails | (PathDetails & { size: number }) | NoDetails;
  /** `invalid-<what>`: a value the MCU configuration cannot take. */
  [invalidValue: `invalid-${string}`]: { value: unknown };
  /** check <serial port> without --board: the board names the bus and pins of its card. */
  'port-needs-board': { port: string };
  /** check <serial port> --fix: --fix does not write through the MCU. */
  'fix-in-board': { port: string };
}

/** A file or device could not be read or written. */
export interface IoCodes {
  'card-full': NoDetails;
  'device-busy': PathDetails | { disk: string; pid: number | null; output: string };
  'fat-denied': FatDetails;
  'fat-disk-error': FatDetails;
  'fat-error': FatDetails;
  'fat-exists': FatDetails;
  'fat-not-found': FatDetails;
  'fat-unmounted': NoDetails;
  'io-error': PathDetails & { errno: string | null };
  'no-such-device': PortDetails | { device: string };
  'no-space': PathDetails;
  'not-a-serial-port': PortDetails;
  'not-found': PathDetails;
  'out-of-range': { lba: number; count: number; sectorCount: number };
  'permission-denied': PathDetails & { reason?: string };
  'pty-failed': { stderr: string };
  'read-only': PathDetails;
  'remote-io-failed': NoDetails;
  'serial-open-failed': PortDetails;
  'serial-unavailable': NoDetails;
  'short-read': NoDetails;
  'socat-failed': NoDetails;
  'socat-missing': NoDetails;
  'update-log-unwritable': NoDetails;
  'write-protected': FatDetails;
  /** A block device of 0 sectors: a card reader with no card in it. */
  'no-card-in-reader': PathDetails;
  'repair-record-unwritable': NoDetails;
}

/** fwcard refuses to touch the target for safety (system disk, mounted, no confirmation). */
export interface SafetyCodes {
  'busy-locked': { target: string; pid: number };
  'confirmation-needed': NoDetails;
  'is-partition': PathDetails & { disk: string };
  mounted: PathDetails & { mounts: { source: string; mountPoint: string }[] };
  'not-confirmed': NoDetails;
  'system-disk': PathDetails & { reasons: string[] };
  'unmount-failed': PathDetails & { mountPoint: string };
}

/** Written data did not read back identical. */
export interface VerifyCodes {
  'checksum-mismatch': { expected: string; actual: string };
  'verify-failed': NoDetails;
  'verify-mismatch': { expected: string; actual: string };
  'version-mismatch': { running: string | null; expected: string | null; leftoverDeleted?: boolean };
}

/** Data is not in a shape we can work with: a file system, a partition table, a data dictionary. */
export interface FormatCodes {
  'bad-dictionary': NoDetails;
  /** An ELF file fwcard cannot read (firmware/elf.ts). */
  'elf-unreadable': NoDetails;
  'ihex-overlap': { address: number };
  /** A damaged Intel HEX record: syntax, length, checksum, record-type, after-eof, no-eof. */
  [intelHex: `ihex-${string}`]: { line?: number; address?: number; expected?: number; actual?: number; type?: number };
  'card-exfat': { fs: string };
  'card-gpt': NoDetails;
  'card-no-fat': { fs: string };
  'fat-corrupt': FatDetails;
  'no-fat-volume': { table: string };
  'no-filesystem': FatDetails | NoDetails;
  'unsupported-fat': NoDetails;
}

/** A peer (MCU, SD card, serial link) misbehaved or stopped answering. */
export interface DeviceCodes {
  'already-open': NoDetails;
  'bad-command': { command: string };
  'card-write-protected': { card: unknown };
  closed: NoDetails;
  disconnected: NoDetails;
  'link-lossy': { lostAnswers: number; withoutProgress: number; limits: { perProgress: number; overall: number } };
  'mcu-config-failed': { commands: string[]; shutdown: string | null };
  'mcu-did-not-return': { attempts: number; lastError: string };
  'mcu-needs-restart': { isConfig: boolean; isShutdown: boolean };
  'mcu-type-mismatch': { connectedMcu: string; boardMcu?: string; buildMcu?: string | null };
  'no-clock-freq': NoDetails;
  'no-response': { unacknowledgedBlocks?: number; response?: string; shutdown?: string | null };
  'not-connected': NoDetails;
  'not-identified': NoDetails;
  'not-klipper': { invalidBytes: number };
  'not-open': NoDetails;
  'port-busy': PortDetails;
  'sdio-buffer': NoDetails;
  'sdio-response-lost': { command: string };
  'spi-response-lost': { transferBytes: number; lost: { at: number; bytes: number }[] };
  'unable-to-connect': { device: string; cause: string | null };
  'unable-to-reconnect': { device: string };
  'unknown-command': { command?: string; formats?: readonly string[] };
  'write-failed': NoDetails;
  /** The SD card's own failures (sdcard/sd-errors.ts). */
  [sdCard: `sd-${string}`]: SdCardDetails;
}

/** A FatFs result, by name, and the path it was about. */
type FatDetails = {
  fresult: string;
  path: string;
};

type PortDetails = {
  path: string;
  reason: string;
};

/** What an SD command answered when it failed (only the fields that apply). */
export type SdCardDetails = {
  command?: number | string;
  error?: number;
  status?: number;
  r1?: number;
  r2?: number;
  ocr?: number;
  token?: number;
  lba?: number;
  bytes?: number;
  polls?: number;
  tries?: number;
  timeoutMs?: number;
  response?: number[];
  cid?: number[];
  csd?: number[];
};

/** The details a code carries: from its family's map, or free-form for a code no map knows. */
export type DetailsOf<M, C extends string> = C extends keyof M ? M[C] : ErrorDetails;

export interface FwcardErrorOptions<D = ErrorDetails> {
  hint?: string;
  details?: D;
  /** The command the hint names, when there is one. */
  remedy?: Remedy;
  cause?: unknown;
  /** Process exit code the CLI should use. 2 = could not do the job (default), 1 = problems found. */
  exitCode?: number;
  /**
   * The same operation may succeed if tried again (a lost answer, a CRC error on the link, a
   * card still busy). Retry logic reads this flag, never the code string.
   */
  transient?: boolean;
}

export class FwcardError<D extends object = ErrorDetails> extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: D;
  readonly remedy: Remedy | undefined;
  readonly exitCode: number;
  readonly transient: boolean;

  constructor(code: string, message: string, opts: FwcardErrorOptions<D> = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? ({} as D);
    this.remedy = opts.remedy;
    this.exitCode = opts.exitCode ?? 2;
    this.transient = opts.transient ?? false;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint ?? null, details: this.details, ...(this.remedy ? { remedy: this.remedy } : {}) };
  }
}

/*
 * One class per family. The type parameter is the code: `new IoError('not-found', …, { details })`
 * checks `details` against IoCodes['not-found'].
 */
export class UsageError<C extends string = string> extends FwcardError<DetailsOf<UsageCodes, C>> {
  constructor(code: C, message: string, opts?: FwcardErrorOptions<DetailsOf<UsageCodes, C>>) {
    super(code, message, opts);
  }
}
export class IoError<C extends string = string> extends FwcardError<DetailsOf<IoCodes, C>> {
  constructor(code: C, message: string, opts?: FwcardErrorOptions<DetailsOf<IoCodes, C>>) {
    super(code, message, opts);
  }
}
export class SafetyError<C extends string = string> extends FwcardError<DetailsOf<SafetyCodes, C>> {
  constructor(code: C, message: string, opts?: FwcardErrorOptions<DetailsOf<SafetyCodes, C>>) {
    super(code, message, opts);
  }
}
export class VerifyError<C extends string = string> extends FwcardError<DetailsOf<VerifyCodes, C>> {
  constructor(code: C, message: string, opts?: FwcardErrorOptions<DetailsOf<VerifyCodes, C>>) {
    super(code, message, opts);
  }
}
export class FormatError<C extends string = string> extends FwcardError<DetailsOf<FormatCodes, C>> {
  constructor(code: C, message: string, opts?: FwcardErrorOptions<DetailsOf<FormatCodes, C>>) {
    super(code, message, opts);
  }
}
export class DeviceError<C extends string = string> extends FwcardError<DetailsOf<DeviceCodes, C>> {
  constructor(code: C, message: string, opts?: FwcardErrorOptions<DetailsOf<DeviceCodes, C>>) {
    super(code, message, opts);
  }
}

/** Every registered code, with the details it carries. */
type AllCodes = UsageCodes & IoCodes & SafetyCodes & VerifyCodes & FormatCodes & DeviceCodes;
export type ErrorCode = Extract<keyof AllCodes, string>;

export function isFwcardError(e: unknown): e is FwcardError {
  return e instanceof FwcardError;
}

/** Is `e` the error `code`? Narrows `details` to what that code carries. */
export function hasCode<C extends ErrorCode>(e: unknown, code: C): e is FwcardError<DetailsOf<AllCodes, C>> {
  return e instanceof FwcardError && e.code === code;
}

const DRIVES: Remedy = { argv: ['fwcard', 'drives'], why: 'lists the cards this machine can see' };

/** Map a Node system error (ENOENT, EACCES, EBUSY, …) on `path` to a typed error with a hint. */
export function fromSystemError(e: unknown, path: string, action: string): FwcardError {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': {
      const a = advice`Check the path. ${DRIVES} lists the cards this machine can see.`;
      return new IoError('not-found', `${path}: no such file or device`, { ...a, details: { path }, cause: e });
    }
    case 'EACCES':
    case 'EPERM':
      return new IoError('permission-denied', `${path}: permission denied while trying to ${action}`, {
        hint: 'Run with sudo, or add your user to the group that owns the device (often `disk`).',
        details: { path },
        cause: e,
      });
    case 'EBUSY': {
      const umount = { argv: ['sudo', 'umount', '/dev/sdX?*'], why: 'unmounts the partitions of the card' };
      const a = advice`Unmount its partitions (${umount}) and close programs using it, then try again.`;
      return new IoError('device-busy', `${path} is busy (in use by another program or mounted)`, { ...a, details: { path }, cause: e });
    }
    case 'EROFS':
      return new IoError('read-only', `${path} is read-only`, {
        hint: 'Slide the lock switch on the SD card or adapter to "unlocked" and re-insert it.',
        details: { path },
        cause: e,
      });
    case 'EISDIR':
      return new UsageError('target-is-directory', `${path} is a directory`, {
        hint: 'Give an image file path (e.g. card.img) or a block device such as /dev/sdb.',
        details: { path },
        cause: e,
      });
    case 'ENOSPC':
      return new IoError('no-space', `no space left while trying to ${action} ${path}`, {
        hint: 'Free some disk space on the host, or use a smaller --size.',
        details: { path },
        cause: e,
      });
    default:
      return new IoError('io-error', `${path}: could not ${action}: ${err?.message ?? String(e)}`, {
        hint: 'Check the card and reader; re-insert the card and try again.',
        details: { path, errno: err?.code ?? null },
        cause: e,
      });
  }
}

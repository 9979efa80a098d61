/**
 * Typed errors shared by every layer. Library code throws these; only `cli/` turns them
 * into text and exit codes. Each carries a stable `code`, a `hint` in the user's words and
 * optional structured `details` (rendered in --json output).
 */
export type ErrorDetails = Record<string, unknown>;

export interface FwcardErrorOptions {
  hint?: string;
  details?: ErrorDetails;
  cause?: unknown;
  /** Process exit code the CLI should use. 2 = could not do the job (default), 1 = problems found. */
  exitCode?: number;
  /**
   * The same operation may succeed if tried again (a lost answer, a CRC error on the link, a
   * card still busy). Retry logic reads this flag, never the code string.
   */
  transient?: boolean;
}

export class FwcardError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: ErrorDetails;
  readonly exitCode: number;
  readonly transient: boolean;

  constructor(code: string, message: string, opts: FwcardErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.details = opts.details ?? {};
    this.exitCode = opts.exitCode ?? 2;
    this.transient = opts.transient ?? false;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint ?? null, details: this.details };
  }
}

/** The user asked for something that cannot work (bad flag, impossible layout, unknown board). */
export class UsageError extends FwcardError {}
/** A file or device could not be read or written. */
export class IoError extends FwcardError {}
/** fwcard refuses to touch the target for safety (system disk, mounted, no confirmation). */
export class SafetyError extends FwcardError {}
/** Written data did not read back identical. */
export class VerifyError extends FwcardError {}
/** A file system or partition structure is not what we can work with. */
export class FormatError extends FwcardError {}
/** A peer (MCU, SD card) misbehaved or stopped answering. */
export class DeviceError extends FwcardError {}

export function isFwcardError(e: unknown): e is FwcardError {
  return e instanceof FwcardError;
}

/** Map a Node system error (ENOENT, EACCES, EBUSY, …) on `path` to a typed error with a hint. */
export function fromSystemError(e: unknown, path: string, action: string): FwcardError {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return new IoError('not-found', `${path}: no such file or device`, {
        hint: 'Check the path. `fwcard drives` lists the cards this machine can see.',
        details: { path },
        cause: e,
      });
    case 'EACCES':
    case 'EPERM':
      return new IoError('permission-denied', `${path}: permission denied while trying to ${action}`, {
        hint: 'Run with sudo, or add your user to the group that owns the device (often `disk`).',
        details: { path },
        cause: e,
      });
    case 'EBUSY':
      return new IoError('device-busy', `${path} is busy (in use by another program or mounted)`, {
        hint: 'Unmount its partitions (`sudo umount /dev/sdX?*`) and close programs using it, then try again.',
        details: { path },
        cause: e,
      });
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

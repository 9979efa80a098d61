import * as F from 'js-fatfs';
import { FormatError, IoError, UsageError, type FwcardError } from '../errors.js';

/** FatFs FRESULT codes, by name, for messages and typed errors. */
const NAMES: Record<number, string> = {
  [F.FR_OK]: 'FR_OK',
  [F.FR_DISK_ERR]: 'FR_DISK_ERR',
  [F.FR_INT_ERR]: 'FR_INT_ERR',
  [F.FR_NOT_READY]: 'FR_NOT_READY',
  [F.FR_NO_FILE]: 'FR_NO_FILE',
  [F.FR_NO_PATH]: 'FR_NO_PATH',
  [F.FR_INVALID_NAME]: 'FR_INVALID_NAME',
  [F.FR_DENIED]: 'FR_DENIED',
  [F.FR_EXIST]: 'FR_EXIST',
  [F.FR_INVALID_OBJECT]: 'FR_INVALID_OBJECT',
  [F.FR_WRITE_PROTECTED]: 'FR_WRITE_PROTECTED',
  [F.FR_INVALID_DRIVE]: 'FR_INVALID_DRIVE',
  [F.FR_NOT_ENABLED]: 'FR_NOT_ENABLED',
  [F.FR_NO_FILESYSTEM]: 'FR_NO_FILESYSTEM',
  [F.FR_MKFS_ABORTED]: 'FR_MKFS_ABORTED',
  [F.FR_TIMEOUT]: 'FR_TIMEOUT',
  [F.FR_LOCKED]: 'FR_LOCKED',
  [F.FR_NOT_ENOUGH_CORE]: 'FR_NOT_ENOUGH_CORE',
  [F.FR_TOO_MANY_OPEN_FILES]: 'FR_TOO_MANY_OPEN_FILES',
  [F.FR_INVALID_PARAMETER]: 'FR_INVALID_PARAMETER',
};

export function fresultName(code: number): string {
  return NAMES[code] ?? `FRESULT ${code}`;
}

/**
 * Map a FatFs result to a typed error. `cause` is the error a disk callback raised, if any: a
 * FR_DISK_ERR is then reported as that error (the card or file failed, not FatFs).
 */
export function fatError(code: number, action: string, path: string, cause?: unknown): FwcardError {
  const details = { fresult: fresultName(code), path };
  if (cause && code === F.FR_DISK_ERR && (cause as FwcardError).code) return cause as FwcardError;
  switch (code) {
    case F.FR_NO_FILE:
    case F.FR_NO_PATH:
      return new IoError('fat-not-found', `${path}: not found on the card (${fresultName(code)})`, { details });
    case F.FR_EXIST:
      return new IoError('fat-exists', `${path} already exists on the card`, { details });
    case F.FR_INVALID_NAME:
      return new UsageError('fat-invalid-name', `"${path}" is not a valid FAT file name`, {
        hint: 'Use letters, digits and _ - in names; avoid \\ / : * ? " < > |.',
        details,
      });
    case F.FR_DENIED:
      return new IoError('fat-denied', `cannot ${action} ${path}: the card is full or the entry is read-only/a directory`, {
        hint: 'Free space on the card (or re-create it with `fwcard prepare`).',
        details,
      });
    case F.FR_WRITE_PROTECTED:
      return new IoError('write-protected', `the card is write-protected`, {
        hint: 'Slide the lock switch on the SD card or adapter to "unlocked" and re-insert it.',
        details,
      });
    case F.FR_NO_FILESYSTEM:
      return new FormatError('no-filesystem', `no FAT file system found (${fresultName(code)})`, {
        hint: 'The card is exFAT, NTFS, GPT or unformatted. Run `fwcard check` to see which, and `fwcard prepare` to make it FAT32.',
        details,
      });
    case F.FR_NOT_READY:
    case F.FR_DISK_ERR:
      return new IoError('fat-disk-error', `the card failed while trying to ${action} ${path} (${fresultName(code)})`, {
        hint: 'Re-insert the card; if it keeps failing, try another card or reader.',
        details,
        cause,
      });
    case F.FR_INT_ERR:
      return new FormatError('fat-corrupt', `the FAT file system is inconsistent (${fresultName(code)}) while trying to ${action} ${path}`, {
        hint: 'Run `fwcard check` on the card; re-create it with `fwcard prepare` if it is damaged.',
        details,
      });
    default:
      return new IoError('fat-error', `FatFs could not ${action} ${path}: ${fresultName(code)}`, { details, cause });
  }
}

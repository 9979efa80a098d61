import { FormatError, IoError, UsageError, type FwcardError } from '../errors.js';

/**
 * FatFs's FRESULT codes (ff.h, fixed since R0.10), written out so that turning a result into an
 * error does not load js-fatfs (it is loaded only when a volume is mounted, see fatfs-glue.ts).
 * test/fat/fresult.test.ts checks them against js-fatfs's own exports.
 */
export const FRESULT = {
  FR_OK: 0,
  FR_DISK_ERR: 1,
  FR_INT_ERR: 2,
  FR_NOT_READY: 3,
  FR_NO_FILE: 4,
  FR_NO_PATH: 5,
  FR_INVALID_NAME: 6,
  FR_DENIED: 7,
  FR_EXIST: 8,
  FR_INVALID_OBJECT: 9,
  FR_WRITE_PROTECTED: 10,
  FR_INVALID_DRIVE: 11,
  FR_NOT_ENABLED: 12,
  FR_NO_FILESYSTEM: 13,
  FR_MKFS_ABORTED: 14,
  FR_TIMEOUT: 15,
  FR_LOCKED: 16,
  FR_NOT_ENOUGH_CORE: 17,
  FR_TOO_MANY_OPEN_FILES: 18,
  FR_INVALID_PARAMETER: 19,
} as const;

/** FatFs FRESULT codes, by name, for messages and typed errors. */
const NAMES: Record<number, string> = {
  [FRESULT.FR_OK]: 'FR_OK',
  [FRESULT.FR_DISK_ERR]: 'FR_DISK_ERR',
  [FRESULT.FR_INT_ERR]: 'FR_INT_ERR',
  [FRESULT.FR_NOT_READY]: 'FR_NOT_READY',
  [FRESULT.FR_NO_FILE]: 'FR_NO_FILE',
  [FRESULT.FR_NO_PATH]: 'FR_NO_PATH',
  [FRESULT.FR_INVALID_NAME]: 'FR_INVALID_NAME',
  [FRESULT.FR_DENIED]: 'FR_DENIED',
  [FRESULT.FR_EXIST]: 'FR_EXIST',
  [FRESULT.FR_INVALID_OBJECT]: 'FR_INVALID_OBJECT',
  [FRESULT.FR_WRITE_PROTECTED]: 'FR_WRITE_PROTECTED',
  [FRESULT.FR_INVALID_DRIVE]: 'FR_INVALID_DRIVE',
  [FRESULT.FR_NOT_ENABLED]: 'FR_NOT_ENABLED',
  [FRESULT.FR_NO_FILESYSTEM]: 'FR_NO_FILESYSTEM',
  [FRESULT.FR_MKFS_ABORTED]: 'FR_MKFS_ABORTED',
  [FRESULT.FR_TIMEOUT]: 'FR_TIMEOUT',
  [FRESULT.FR_LOCKED]: 'FR_LOCKED',
  [FRESULT.FR_NOT_ENOUGH_CORE]: 'FR_NOT_ENOUGH_CORE',
  [FRESULT.FR_TOO_MANY_OPEN_FILES]: 'FR_TOO_MANY_OPEN_FILES',
  [FRESULT.FR_INVALID_PARAMETER]: 'FR_INVALID_PARAMETER',
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
  if (cause && code === FRESULT.FR_DISK_ERR && (cause as FwcardError).code) return cause as FwcardError;
  switch (code) {
    case FRESULT.FR_NO_FILE:
    case FRESULT.FR_NO_PATH:
      return new IoError('fat-not-found', `${path}: not found on the card (${fresultName(code)})`, { details });
    case FRESULT.FR_EXIST:
      return new IoError('fat-exists', `${path} already exists on the card`, { details });
    case FRESULT.FR_INVALID_NAME:
      return new UsageError('fat-invalid-name', `"${path}" is not a valid FAT file name`, {
        hint: 'Use letters, digits and _ - in names; avoid \\ / : * ? " < > |.',
        details,
      });
    case FRESULT.FR_DENIED:
      return new IoError('fat-denied', `cannot ${action} ${path}: the card is full or the entry is read-only/a directory`, {
        hint: 'Free space on the card (or re-create it with `fwcard prepare`).',
        details,
      });
    case FRESULT.FR_WRITE_PROTECTED:
      return new IoError('write-protected', `the card is write-protected`, {
        hint: 'Slide the lock switch on the SD card or adapter to "unlocked" and re-insert it.',
        details,
      });
    case FRESULT.FR_NO_FILESYSTEM:
      return new FormatError('no-filesystem', `no FAT file system found (${fresultName(code)})`, {
        hint: 'The card is exFAT, NTFS, GPT or unformatted. Run `fwcard check` to see which, and `fwcard prepare` to make it FAT32.',
        details,
      });
    case FRESULT.FR_NOT_READY:
    case FRESULT.FR_DISK_ERR:
      return new IoError('fat-disk-error', `the card failed while trying to ${action} ${path} (${fresultName(code)})`, {
        hint: 'Re-insert the card; if it keeps failing, try another card or reader.',
        details,
        cause,
      });
    case FRESULT.FR_INT_ERR:
      return new FormatError('fat-corrupt', `the FAT file system is inconsistent (${fresultName(code)}) while trying to ${action} ${path}`, {
        hint: 'Run `fwcard check` on the card; re-create it with `fwcard prepare` if it is damaged.',
        details,
      });
    default:
      return new IoError('fat-error', `FatFs could not ${action} ${path}: ${fresultName(code)}`, { details, cause });
  }
}

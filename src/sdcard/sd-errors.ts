/**
 * The ways an SD card fails, as typed errors with hints in the user's words. Every code
 * starts with `sd-` so the CLI and the reliability tests can tell card trouble from link
 * trouble.
 */
import { DeviceError, isFwcardError, type ErrorDetails, type FwcardError } from '../errors.js';

export type SdErrorCode =
  | 'sd-no-card'
  | 'sd-voltage'
  | 'sd-init-timeout'
  | 'sd-unsupported-card'
  | 'sd-command-failed'
  | 'sd-register-crc'
  | 'sd-data-crc'
  | 'sd-read-failed'
  | 'sd-write-rejected'
  | 'sd-write-protected'
  | 'sd-busy-timeout'
  | 'sd-not-initialized'
  | 'sd-out-of-range';

const HINTS: Record<SdErrorCode, string> = {
  'sd-no-card':
    'Is a card inserted? Check that the board entry names the right SD bus and CS pin; try -s for 4 MHz, or leave it off for 400 kHz.',
  'sd-voltage': 'The card does not accept 3.3 V. Use another card (any ordinary microSD card works).',
  'sd-init-timeout': 'The card never finished starting up. Re-insert it or try another card; power-cycle the board if it was just inserted.',
  'sd-unsupported-card': 'This card type is not supported (MMC or SDUC). Use an ordinary microSD/SDHC card.',
  'sd-command-failed': 'The card refused a command. Re-insert it and try again; if it keeps failing, try another card.',
  'sd-register-crc': 'The card identification arrived damaged. Check the wiring or lower the speed (drop -s), then retry.',
  'sd-data-crc': 'Data arrived damaged several times in a row. Lower the speed (drop -s), check the card seating, then retry.',
  'sd-read-failed': 'The card could not read that sector. The card may be failing: copy what you need and replace it.',
  'sd-write-rejected': 'The card refused the data. Retry; if it keeps failing the card is worn out or fake: replace it.',
  'sd-write-protected': 'The card is write-protected. Unlock it (or its adapter\'s slider) or use another card.',
  'sd-busy-timeout': 'The card stayed busy far longer than the SD spec allows. Re-insert it or replace it.',
  'sd-not-initialized': 'Initialise the card before reading or writing (this is a bug in the caller).',
  'sd-out-of-range': 'The request lies past the end of the card. The partition table or file system is larger than the card.',
};

export interface SdErrorOptions {
  /** Instead of the code's usual hint. */
  hint?: string;
  /**
   * A retry of the same transfer may succeed: a bit flipped on the wire (a CRC error in the
   * command or the data). The host drivers retry these, and only these, a few times.
   */
  transient?: boolean;
}

export function sdError(code: SdErrorCode, message: string, details: ErrorDetails = {}, opts: SdErrorOptions = {}): DeviceError {
  return new DeviceError(code, message, { hint: opts.hint ?? HINTS[code], details, transient: opts.transient ?? false });
}

/** Worth trying the same transfer again (see `SdErrorOptions.transient`). */
export function isTransient(e: unknown): e is FwcardError {
  return isFwcardError(e) && e.transient;
}

/** Over SDIO a missing card and a card stuck in SPI mode look the same: silence. */
export const SDIO_SILENT_HINT =
  'Is a card inserted? A card that was used over SPI since power-up answers only SPI until it loses power: power-cycle the board (unplug it), then try again.';

export function hex(n: number, width = 2): string {
  return `0x${(n >>> 0).toString(16).padStart(width, '0')}`;
}

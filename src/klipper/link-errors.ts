import { DeviceError } from '../errors.js';

/** How a Klipper link fails, in the user's words: the errors the send queue raises. */

/** The sequence probe went unanswered, but bytes came back that are not Klipper's framing. */
export function notKlipper(port: string, invalidBytes: number): DeviceError {
  return new DeviceError('not-klipper', `${port}: the device answers, but not in Klipper's protocol (${invalidBytes} bytes of unframed data)`, {
    hint: 'Check the baud rate (-b, Klipper defaults to 250000) and that the board runs Klipper firmware, not Marlin or a bootloader.',
    details: { invalidBytes },
  });
}

/** The sequence probe went unanswered and nothing came back at all. */
export function nothingAnswered(port: string): DeviceError {
  return new DeviceError('no-response', `${port}: nothing answered`, {
    hint: 'Is the board powered and running Klipper? For a UART connection check the baud rate (-b). A board that was just reset may need a few seconds.',
  });
}

/** Blocks stayed unacknowledged and nothing valid arrived for the queue's timeout. */
export function stoppedAnswering(port: string, unacknowledgedBlocks: number): DeviceError {
  return new DeviceError('no-response', `${port}: the MCU stopped answering`, {
    hint: 'The board may have reset, shut down its USB port or lost power. Check the connection and try again.',
    details: { unacknowledgedBlocks },
  });
}

import type { SendQueueStats } from '../../klipper/send-queue.js';
import type { UploadLinkStats } from './types.js';

/** Messages on the SD bus so far. */
export interface BusCounters {
  /** Messages that waited for an answer (spi_transfer; SDIO reads). */
  answered: number;
  /** Messages sent without waiting (spi_send; SDIO writes). */
  unanswered: number;
}

/** The serial link's and the SD bus's counters at one moment. */
export interface LinkSnapshot {
  /** Undefined while the session has no send queue. */
  serial: Pick<SendQueueStats, 'bytesWritten' | 'bytesRead' | 'retransmits'> | undefined;
  bus: BusCounters;
}

/** The traffic between two snapshots (null when the link had no counters at either). */
export function linkTraffic(before: LinkSnapshot, after: LinkSnapshot): UploadLinkStats | null {
  if (!before.serial || !after.serial) return null;
  const answered = after.bus.answered - before.bus.answered;
  const unanswered = after.bus.unanswered - before.bus.unanswered;
  return {
    bytesToMcu: after.serial.bytesWritten - before.serial.bytesWritten,
    bytesFromMcu: after.serial.bytesRead - before.serial.bytesRead,
    retransmits: after.serial.retransmits - before.serial.retransmits,
    roundTrips: answered,
    messages: answered + unanswered,
  };
}

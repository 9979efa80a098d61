/**
 * A bus transfer whose data was clocked but part of whose answer never reached the host.
 * Klipper retransmits host-to-MCU blocks, but a corrupted MCU-to-host block is gone, and an
 * `spi_transfer` cannot be asked again without clocking the card further. The bus reports
 * exactly which bytes are missing, so the SD driver can keep what arrived and recover.
 */
import { DeviceError } from '../errors.js';

/** Bytes `[offset, offset + length)` of a transfer whose answer was lost. */
export interface LostRange {
  offset: number;
  length: number;
}

export class SpiResponseLost extends DeviceError {
  /** What came back, `0xff` where nothing did; as long as the data clocked out. */
  readonly received: Uint8Array;
  /** The missing ranges, in order, not overlapping. */
  readonly lost: readonly LostRange[];

  constructor(received: Uint8Array, lost: readonly LostRange[]) {
    const first = lost[0]?.offset ?? 0;
    const bytes = lost.reduce((a, r) => a + r.length, 0);
    super('spi-response-lost', `the MCU's answer to an SPI transfer was lost on the serial link at byte ${first} of ${received.length} (${bytes} bytes missing)`, {
      hint: 'The serial link between this computer and the board corrupts data. Use a shorter or shielded USB cable, keep it away from motor and heater wires, or lower the baud rate (-b), then try again.',
      details: { transferBytes: received.length, lost: lost.map((r) => ({ ...r })) },
    });
    this.received = received;
    this.lost = lost;
  }

  /** Offset of the first byte whose answer is missing. */
  get offset(): number {
    return this.lost[0]?.offset ?? 0;
  }
}

export function isResponseLost(e: unknown): e is SpiResponseLost {
  return e instanceof SpiResponseLost;
}

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
      transient: true,
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

/**
 * The answer to one `sdio_*` command was lost on the link. The MCU ran the command (it runs
 * every block it acknowledges once); whether it may simply be sent again depends on the
 * command, so the SD driver decides.
 */
export class SdioResponseLost extends DeviceError {
  constructor(readonly command: string) {
    super('sdio-response-lost', `the MCU's answer to ${command} was lost on the serial link`, {
      hint: 'The serial link between this computer and the board corrupts data. Use a shorter or shielded USB cable, keep it away from motor and heater wires, or lower the baud rate (-b), then try again.',
      details: { command },
      transient: true,
    });
  }
}

export function isSdioResponseLost(e: unknown): e is SdioResponseLost {
  return e instanceof SdioResponseLost;
}

/**
 * How many lost answers one operation of an SD driver (init, a read or a write call) may
 * meet: `perProgress` in a row without progress, and `overall` in all, so that a link that
 * loses everything fails in bounded time with a typed error instead of retrying forever.
 */
export class LossBudget {
  private sinceProgress = 0;
  private total = 0;

  constructor(
    private readonly perProgress: number,
    private readonly overall: number,
  ) {}

  /**
   * The budget of one operation on `blocks` blocks, for both SD drivers: `perProgress` losses in
   * a row, and in all twice that plus 4 per block (at 1e-3 a block costs about one loss).
   */
  static forBlocks(perProgress: number, blocks: number): LossBudget {
    return new LossBudget(perProgress, 2 * perProgress + 4 * blocks);
  }

  progress(): void {
    this.sinceProgress = 0;
  }

  /** Count a loss; throws a typed error once a bound is passed. */
  lost(e: unknown, where: string): void {
    this.total++;
    this.sinceProgress++;
    if (this.sinceProgress <= this.perProgress && this.total <= this.overall) return;
    throw new DeviceError('link-lossy', `gave up ${where}: ${this.total} answers from the MCU were lost on the serial link, ${this.sinceProgress} of them without progress`, {
      hint: 'The serial link between this computer and the board loses too much data. Use a shorter or shielded USB cable, keep it away from motor and heater wires, or lower the baud rate (-b), then try again.',
      details: { lostAnswers: this.total, withoutProgress: this.sinceProgress, limits: { perProgress: this.perProgress, overall: this.overall } },
      cause: e,
    });
  }
}

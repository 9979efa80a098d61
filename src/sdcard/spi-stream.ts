/**
 * The MISO side of an SPI conversation as a byte stream. SD cards answer some bytes after
 * the command (NCR), start data after an access time (NAC) and hold MISO low while busy, so
 * the host reads ahead in one transfer and scans what came back instead of paying a round
 * trip per byte as Klipper's script does.
 */
import type { SpiBus } from './bus.js';
import { isResponseLost, type SpiResponseLost } from './lost-response.js';

const FF_CACHE = new Map<number, Uint8Array>();

/** A run of 0xFF bytes (what the host clocks out while it only listens). */
export function ones(n: number): Uint8Array {
  let b = FF_CACHE.get(n);
  if (!b) {
    b = new Uint8Array(n).fill(0xff);
    if (n <= 4096) FF_CACHE.set(n, b);
  }
  return b;
}

/** A bound on waiting: wall-clock milliseconds and bytes clocked, whichever runs out first. */
export interface WaitBudget {
  ms: number;
  bytes: number;
}

/**
 * The stream keeps the bytes in order, so when the bus reports part of an answer lost
 * (`SpiResponseLost`) it keeps what came before the first missing byte and stops there: every
 * read that needs a byte past that point rethrows the loss, while the bytes before it can
 * still be used. `begin` and `drop` start afresh.
 */
export class SpiStream {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** The loss that ends `buf`: nothing after it can be read in step with the card. */
  private gap: SpiResponseLost | undefined;

  constructor(
    private readonly bus: SpiBus,
    private readonly now: () => number,
  ) {}

  /** Clock `head` out followed by `lookahead` 0xFF bytes; the stream then holds what came back after `head`. */
  async begin(head: Uint8Array, lookahead: number): Promise<void> {
    const out = new Uint8Array(head.length + lookahead);
    out.set(head);
    out.fill(0xff, head.length);
    this.gap = undefined;
    this.buf = new Uint8Array(0);
    this.pos = 0;
    this.buf = await this.clock(out, head.length);
  }

  /** Forget read-ahead bytes (they were clocked already; the card has moved on), and any loss. */
  drop(): void {
    this.buf = new Uint8Array(0);
    this.pos = 0;
    this.gap = undefined;
  }

  get available(): number {
    return this.buf.length - this.pos;
  }

  /** The loss the stream stopped at, if it did. */
  get lost(): SpiResponseLost | undefined {
    return this.gap;
  }

  /**
   * Make at least `n` bytes available, clocking only the missing ones. After a loss nothing
   * is clocked: the reads that run into it throw.
   */
  async want(n: number): Promise<void> {
    const missing = n - this.available;
    if (missing <= 0 || this.gap) return;
    const got = await this.clock(ones(missing), 0);
    const merged = new Uint8Array(this.available + got.length);
    merged.set(this.buf.subarray(this.pos));
    merged.set(got, this.available);
    this.buf = merged;
    this.pos = 0;
  }

  /** Next byte; clocks `chunk` more bytes when the read-ahead is used up. */
  async next(chunk = 16): Promise<number> {
    if (this.pos >= this.buf.length) await this.want(chunk);
    if (this.pos >= this.buf.length) throw this.gap!;
    return this.buf[this.pos++]!;
  }

  async take(n: number): Promise<Uint8Array> {
    await this.want(n);
    if (this.available < n) throw this.gap!;
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /**
   * Skip bytes while `skip(byte)` holds, bounded by `budget`. Returns the first byte that does
   * not match (left unconsumed) and how many were skipped, or undefined when the budget ran out.
   */
  async skipWhile(skip: (b: number) => boolean, budget: WaitBudget, chunk: number): Promise<{ byte: number; skipped: number } | undefined> {
    const start = this.now();
    let skipped = 0;
    let step = Math.max(1, chunk);
    for (;;) {
      while (this.pos < this.buf.length) {
        const b = this.buf[this.pos]!;
        if (!skip(b)) return { byte: b, skipped };
        this.pos++;
        skipped++;
      }
      // The byte that ends the wait may be among the lost ones.
      if (this.gap) throw this.gap;
      if (skipped >= budget.bytes || this.now() - start > budget.ms) return undefined;
      await this.want(Math.min(step, budget.bytes - skipped + 1));
      // Wait longer between polls as the wait drags on: fewer round trips for slow cards.
      step = Math.min(step * 2, 512);
    }
  }

  /** One transfer; on a loss, what came back after `skip` up to the first missing byte. */
  private async clock(out: Uint8Array, skip: number): Promise<Uint8Array> {
    try {
      return (await this.bus.transfer(out)).subarray(skip);
    } catch (e) {
      if (!isResponseLost(e)) throw e;
      // Answers to the command bytes themselves are not needed.
      const first = e.lost.find((r) => r.offset + r.length > skip);
      if (!first) return e.received.subarray(skip);
      this.gap = e;
      return e.received.subarray(skip, Math.max(skip, first.offset));
    }
  }
}

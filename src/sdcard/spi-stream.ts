/**
 * The MISO side of an SPI conversation as a byte stream. SD cards answer some bytes after
 * the command (NCR), start data after an access time (NAC) and hold MISO low while busy, so
 * the host reads ahead in one transfer and scans what came back instead of paying a round
 * trip per byte as Klipper's script does.
 */
import type { SpiBus } from './bus.js';

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

export class SpiStream {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;

  constructor(
    private readonly bus: SpiBus,
    private readonly now: () => number,
  ) {}

  /** Clock `head` out followed by `lookahead` 0xFF bytes; the stream then holds what came back after `head`. */
  async begin(head: Uint8Array, lookahead: number): Promise<void> {
    const out = new Uint8Array(head.length + lookahead);
    out.set(head);
    out.fill(0xff, head.length);
    const got = await this.bus.transfer(out);
    this.buf = got.subarray(head.length);
    this.pos = 0;
  }

  /** Forget read-ahead bytes (they were clocked already; the card has moved on). */
  drop(): void {
    this.buf = new Uint8Array(0);
    this.pos = 0;
  }

  get available(): number {
    return this.buf.length - this.pos;
  }

  /** Make at least `n` bytes available, clocking only the missing ones. */
  async want(n: number): Promise<void> {
    const missing = n - this.available;
    if (missing <= 0) return;
    const got = await this.bus.transfer(ones(missing));
    const merged = new Uint8Array(this.available + got.length);
    merged.set(this.buf.subarray(this.pos));
    merged.set(got, this.available);
    this.buf = merged;
    this.pos = 0;
  }

  /** Next byte; clocks `chunk` more bytes when the read-ahead is used up. */
  async next(chunk = 16): Promise<number> {
    if (this.pos >= this.buf.length) await this.want(chunk);
    return this.buf[this.pos++]!;
  }

  async take(n: number): Promise<Uint8Array> {
    await this.want(n);
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
      if (skipped >= budget.bytes || this.now() - start > budget.ms) return undefined;
      await this.want(Math.min(step, budget.bytes - skipped + 1));
      // Wait longer between polls as the wait drags on: fewer round trips for slow cards.
      step = Math.min(step * 2, 512);
    }
  }
}

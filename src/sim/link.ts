/**
 * The wire between host and simulated MCU: byte rate (a UART moves 10 bits per byte: start,
 * 8 data, stop), one-way latency (USB frames, adapters), and fault injection for the
 * reliability tests. Each direction is a Channel that delivers chunks in order.
 */
import { prng } from '../util/prng.js';
import { concatBytes } from '../util/bytes.js';

/** Mulberry32 (src/util/prng.ts), re-exported for fault injection users of the link. */
export { prng };
export interface LinkFaults {
  /** Probability per byte of being lost. */
  dropRate?: number;
  /** Probability per byte of one bit flipping. */
  flipRate?: number;
  /** Probability per byte of being delivered twice. */
  duplicateRate?: number;
  /** Seed for the fault PRNG (deterministic runs). */
  seed?: number;
  /** Which direction the random faults hit (default both). */
  direction?: 'host-to-mcu' | 'mcu-to-host' | 'both';
  /** Scripted faults: rewrite each chunk (return the bytes to deliver). */
  hostToMcu?: (bytes: Uint8Array) => Uint8Array;
  mcuToHost?: (bytes: Uint8Array) => Uint8Array;
}

export interface LinkModelOptions {
  kind: 'uart' | 'usb';
  /** UART baud rate (default 250000). */
  baud?: number;
  /** One-way latency in ms (default: USB 0.5 ms, UART 0). */
  latencyMs?: number;
  faults?: LinkFaults;
}

/** Milliseconds one byte occupies the wire. USB full speed moves ~1 MB/s in practice. */
export function byteTimeMs(o: LinkModelOptions): number {
  return o.kind === 'uart' ? 10_000 / (o.baud ?? 250000) : 0.001;
}


export interface ChannelStats {
  bytes: number;
  dropped: number;
  flipped: number;
  duplicated: number;
}

/** One direction of the link. */
export class Channel {
  private busyUntil = 0;
  private stallUntil = 0;
  private readonly queue: Array<{ at: number; bytes: Uint8Array }> = [];
  private timer: { cancel(): void } | undefined;
  readonly stats: ChannelStats = { bytes: 0, dropped: 0, flipped: 0, duplicated: 0 };

  constructor(
    private readonly byteMs: number,
    private readonly latencyMs: number,
    /**
     * `at`: when the last byte was due to arrive (a timer may hand it over a little later);
     * `byteMs`: how long each byte before it took, so the receiver can tell when any of them arrived.
     */
    private readonly deliver: (bytes: Uint8Array, at: number, byteMs: number) => void,
    private readonly rand: () => number,
    private readonly faults: { drop: number; flip: number; dup: number; script?: (b: Uint8Array) => Uint8Array },
    /**
     * Hand bytes over as they come off the wire, in pieces of about this many ms, rather than a
     * write at a time. A pty hands the simulator several of the host's blocks in one read; a
     * real MCU sees the first block's last byte long before the third's and acts on it (runs
     * it, acks it) while the rest is still arriving. 0: whole writes.
     */
    private readonly pieceMs = 0,
    /**
     * Set the timer this much early and look again on each turn of the event loop from then:
     * Node's timers count whole milliseconds and wake up to one late (25 bytes at 250000 baud).
     */
    private readonly spinMs = 0,
    /** Hand what is due at once over in one piece, as a serial port's read returns its buffer. */
    private readonly coalesce = false,
  ) {}

  /**
   * Put `bytes` on the wire, starting no earlier than `at` (default now): a sender that keeps
   * its own clock passes it, so a late timer on its side does not delay the wire.
   */
  write(bytes: Uint8Array, at?: number): void {
    let b = this.faults.script ? this.faults.script(bytes) : bytes;
    if (this.faults.drop || this.faults.flip || this.faults.dup) b = this.mangle(b);
    if (!b.length) return;
    this.stats.bytes += b.length;
    const now = performance.now();
    let t = Math.max(at ?? now, this.busyUntil, this.stallUntil);
    const piece = this.pieceMs > 0 && this.byteMs > 0 ? Math.max(1, Math.round(this.pieceMs / this.byteMs)) : b.length;
    for (let o = 0; o < b.length; o += piece) {
      const bytes = b.slice(o, o + piece);
      t += bytes.length * this.byteMs;
      this.queue.push({ at: t + this.latencyMs, bytes });
    }
    this.busyUntil = t;
    this.arm();
  }

  private mangle(b: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const x of b) {
      if (this.rand() < this.faults.drop) {
        this.stats.dropped++;
        continue;
      }
      let y = x;
      if (this.rand() < this.faults.flip) {
        y ^= 1 << Math.floor(this.rand() * 8);
        this.stats.flipped++;
      }
      out.push(y);
      if (this.rand() < this.faults.dup) {
        out.push(y);
        this.stats.duplicated++;
      }
    }
    return Uint8Array.from(out);
  }

  /** Hold everything (in flight and new) for `ms`: a stalled USB endpoint or a busy adapter. */
  stall(ms: number): void {
    this.stallUntil = performance.now() + ms;
    for (const q of this.queue) q.at = Math.max(q.at, this.stallUntil);
    this.arm(true);
  }

  /** Forget bytes in flight (the other end went away). */
  clear(): void {
    this.queue.length = 0;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(rearm = false): void {
    if (this.timer && !rearm) return;
    this.timer?.cancel();
    this.timer = undefined;
    const head = this.queue[0];
    if (!head) return;
    const wait = head.at - performance.now();
    // Due, or due within a timer's granularity where delivery must be exact: look again on the
    // next turn of the event loop, not a timer's millisecond later.
    if (wait <= this.spinMs) {
      const i = setImmediate(() => this.fire());
      this.timer = { cancel: () => clearImmediate(i) };
    } else {
      const t = setTimeout(() => this.fire(), wait - this.spinMs);
      this.timer = { cancel: () => clearTimeout(t) };
    }
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    const due: Array<{ at: number; bytes: Uint8Array }> = [];
    while (this.queue.length && this.queue[0]!.at <= now + 0.02) due.push(this.queue.shift()!);
    if (!this.coalesce || due.length < 2) {
      for (const { bytes, at } of due) this.deliver(bytes, at, this.byteMs);
    } else {
      // What arrived by now reaches the host in one read, as from a serial port's buffer.
      this.deliver(concatBytes(due.map((d) => d.bytes)), due[due.length - 1]!.at, this.byteMs);
    }
    this.arm();
  }
}

/** Granularity of delivery to the MCU: a timer's wake-up is no finer. */
const MCU_PIECE_MS = 0.25;

/**
 * How early the timer for delivery to the host is set. What the host reads decides when it
 * sends next (an SD block written waits for one answer), so a late delivery slows the link
 * below the rate it models; looking again from half a millisecond early halves the lateness
 * for little CPU. The MCU's side needs none: it has each byte's time (MCU_PIECE_MS).
 */
const HOST_SPIN_MS = 0.5;

/** Both directions with the shared options. */
export class LinkModel {
  readonly toMcu: Channel;
  readonly toHost: Channel;

  constructor(
    readonly opts: LinkModelOptions,
    deliverToMcu: (b: Uint8Array, at: number, byteMs: number) => void,
    deliverToHost: (b: Uint8Array, at: number, byteMs: number) => void,
  ) {
    const f = opts.faults ?? {};
    const rand = prng(f.seed ?? 1);
    const latency = opts.latencyMs ?? (opts.kind === 'usb' ? 0.5 : 0);
    const byteMs = byteTimeMs(opts);
    const dir = f.direction ?? 'both';
    const random = (on: boolean) => (on ? { drop: f.dropRate ?? 0, flip: f.flipRate ?? 0, dup: f.duplicateRate ?? 0 } : { drop: 0, flip: 0, dup: 0 });
    // The MCU acts on each block as its last byte arrives; the host only reads whole answers,
    // so its direction keeps each write whole.
    this.toMcu = new Channel(byteMs, latency, deliverToMcu, rand, { ...random(dir !== 'mcu-to-host'), script: f.hostToMcu }, MCU_PIECE_MS);
    this.toHost = new Channel(byteMs, latency, deliverToHost, rand, { ...random(dir !== 'host-to-mcu'), script: f.mcuToHost }, 0, HOST_SPIN_MS, true);
  }

  clear(): void {
    this.toMcu.clear();
    this.toHost.clear();
  }
}

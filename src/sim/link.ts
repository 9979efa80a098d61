/**
 * The wire between host and simulated MCU: byte rate (a UART moves 10 bits per byte: start,
 * 8 data, stop), one-way latency (USB frames, adapters), and fault injection for the
 * reliability tests. Each direction is a Channel that delivers chunks in order.
 */
import { prng } from '../util/prng.js';

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
    /** `at`: when the last byte was due to arrive (a timer may hand it over a little later). */
    private readonly deliver: (bytes: Uint8Array, at: number) => void,
    private readonly rand: () => number,
    private readonly faults: { drop: number; flip: number; dup: number; script?: (b: Uint8Array) => Uint8Array },
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
    this.busyUntil = Math.max(at ?? now, this.busyUntil, this.stallUntil) + b.length * this.byteMs;
    this.queue.push({ at: this.busyUntil + this.latencyMs, bytes: b.slice() });
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
    // Already due: hand it over in this turn of the event loop, not a timer's millisecond later.
    if (wait <= 0) {
      const i = setImmediate(() => this.fire());
      this.timer = { cancel: () => clearImmediate(i) };
    } else {
      const t = setTimeout(() => this.fire(), wait);
      this.timer = { cancel: () => clearTimeout(t) };
    }
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length && this.queue[0]!.at <= now + 0.05) {
      const { bytes, at } = this.queue.shift()!;
      this.deliver(bytes, at);
    }
    this.arm();
  }
}

/** Both directions with the shared options. */
export class LinkModel {
  readonly toMcu: Channel;
  readonly toHost: Channel;

  constructor(
    readonly opts: LinkModelOptions,
    deliverToMcu: (b: Uint8Array, at: number) => void,
    deliverToHost: (b: Uint8Array, at: number) => void,
  ) {
    const f = opts.faults ?? {};
    const rand = prng(f.seed ?? 1);
    const latency = opts.latencyMs ?? (opts.kind === 'usb' ? 0.5 : 0);
    const byteMs = byteTimeMs(opts);
    const dir = f.direction ?? 'both';
    const random = (on: boolean) => (on ? { drop: f.dropRate ?? 0, flip: f.flipRate ?? 0, dup: f.duplicateRate ?? 0 } : { drop: 0, flip: 0, dup: 0 });
    this.toMcu = new Channel(byteMs, latency, deliverToMcu, rand, { ...random(dir !== 'mcu-to-host'), script: f.hostToMcu });
    this.toHost = new Channel(byteMs, latency, deliverToHost, rand, { ...random(dir !== 'host-to-mcu'), script: f.mcuToHost });
  }

  clear(): void {
    this.toMcu.clear();
    this.toHost.clear();
  }
}

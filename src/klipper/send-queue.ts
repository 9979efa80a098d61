import { DeviceError } from '../errors.js';
import type { Transport } from '../transport/transport.js';
import { BlockDecoder, encodeBlock, MESSAGE_MIN, MESSAGE_PAYLOAD_MAX, MESSAGE_SEQ_MASK, type Block } from './frame.js';
import { AckWaiters } from './ack-waiters.js';
import { notKlipper, nothingAnswered, stoppedAnswering } from './link-errors.js';
import { ReadyCommands } from './ready-commands.js';
import { RtoEstimator } from './rto.js';
import { SequenceProbe } from './sequence-probe.js';
import { SentBlocks } from './sent-blocks.js';
import { concatBytes } from '../util/bytes.js';

/** Blocks in flight at most (klippy/chelper/serialqueue.c). */
export const MAX_PENDING_BLOCKS = 12;

export interface SendQueueOptions {
  transport: Transport;
  /**
   * Data blocks from the MCU (responses), in arrival order, with the sequence number they
   * carry as an unbounded integer: the MCU numbers what it sends with the next sequence it
   * expects, so the answers to the commands of block N arrive in blocks numbered N + 1.
   */
  onBlock: (block: Block, seq: number) => void;
  /** Bytes the MCU can buffer (its RECEIVE_WINDOW constant); 0 = no byte bound. */
  receiveWindow?: number;
  /** Seconds one byte takes on the wire (10 / baud for a UART; 0 for USB). */
  byteTime?: number;
  /** Give up when blocks stay unacknowledged and nothing valid arrives for this long. */
  timeoutMs?: number;
  /** Monotonic seconds (injectable for tests). */
  now?: () => number;
  trace?: (line: string) => void;
}

export interface SendOptions {
  /**
   * Keep this command apart from every other exclusive command: no two share a block, so the
   * block's number names this command's answer alone (see `send`). Other commands may still
   * travel in the same block.
   */
  exclusive?: boolean;
  /**
   * Called with the number of the block that carries the command when the block is built,
   * before it is written: a caller can then tell its answer (in the block numbered one higher)
   * as soon as it arrives, without waiting for the acknowledgement. The number is the one the
   * block was sent under; if the queue later renumbers (a resync) the promise of `send`
   * resolves with the new one.
   */
  onPacked?: (seq: number) => void;
}

export interface SendQueueStats {
  bytesWritten: number;
  bytesRead: number;
  bytesRetransmitted: number;
  bytesInvalid: number;
  retransmits: number;
  sendSeq: number;
  receiveSeq: number;
  srtt: number;
  rttvar: number;
  rto: number;
}

/**
 * The host side of Klipper's block transport: packs queued commands into message blocks,
 * numbers them, keeps them until acknowledged, retransmits on timeout (RFC 6298 style
 * adaptive RTO, doubled per timeout) or on a NAK (a repeated ack), and never has more
 * unacknowledged bytes in flight than the MCU's receive buffer holds. Mirrors
 * serialqueue.c's rules; sequence numbers are kept as unbounded integers, only their low 4
 * bits go on the wire.
 *
 * Before the first command the queue learns the MCU's expected sequence number with an
 * empty block: the MCU answers it with an ack or a NAK, both carrying that number.
 *
 * Its parts: ReadyCommands packs queued commands into blocks, SentBlocks keeps the
 * unacknowledged ones within the receive window, RtoEstimator times retransmits,
 * AckWaiters resolves `send` callers, SequenceProbe does the first sync. This class holds
 * the sequence numbers and the rules that tie them together.
 */
export class SendQueue {
  private readonly decoder = new BlockDecoder();
  private readonly now: () => number;
  private readonly ready = new ReadyCommands();
  private readonly sent = new SentBlocks();
  private readonly rtt = new RtoEstimator();
  private readonly waiters = new AckWaiters();
  private readonly probe: SequenceProbe;
  private sendSeq = 1;
  private receiveSeq = 1;
  private lastAckSeq = 0;
  private ignoreNakSeq = 0;
  private retransmitSeq = 0;
  private rttSampleSeq = 0;
  private idleTime = 0;
  private badAcks = 0;
  private retransmitTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private lastValidRx = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private failed: Error | undefined;
  private readonly stats_ = { bytesWritten: 0, bytesRead: 0, bytesRetransmitted: 0, retransmits: 0 };
  private readonly unsubscribe: Array<() => void> = [];
  receiveWindow: number;
  byteTime: number;
  timeoutMs: number;

  constructor(private readonly opts: SendQueueOptions) {
    this.now = opts.now ?? (() => performance.now() / 1000);
    this.receiveWindow = opts.receiveWindow ?? 0;
    this.byteTime = opts.byteTime ?? 0;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.unsubscribe.push(opts.transport.onData((c) => this.onData(c)));
    this.unsubscribe.push(
      opts.transport.onClose((cause) =>
        this.fail(cause ?? new DeviceError('closed', `${opts.transport.name}: connection closed`)),
      ),
    );
    this.probe = new SequenceProbe({
      now: this.now,
      write: (bytes) => void this.rawWrite(bytes),
      timeoutError: () => {
        const garbage = this.decoder.invalidBytes;
        return garbage > 0 ? notKlipper(opts.transport.name, garbage) : nothingAnswered(opts.transport.name);
      },
    });
    this.lastValidRx = this.now();
    this.watchdog = setInterval(() => this.checkAlive(), 100);
    this.watchdog.unref?.();
  }

  get stats(): SendQueueStats {
    return {
      ...this.stats_,
      bytesInvalid: this.decoder.invalidBytes,
      sendSeq: this.sendSeq,
      receiveSeq: this.receiveSeq,
      srtt: this.rtt.srtt,
      rttvar: this.rtt.rttvar,
      rto: this.rtt.rto,
    };
  }

  /** Bytes received that were not part of a valid block. */
  get invalidBytes(): number {
    return this.decoder.invalidBytes;
  }
  get validBlocks(): number {
    return this.decoder.validBlocks;
  }

  /**
   * Learn the MCU's sequence number. Resolves when the MCU answered the probe; rejects after
   * `timeoutMs` with a DeviceError saying whether anything (garbage) came back.
   */
  async sync(timeoutMs = this.timeoutMs): Promise<void> {
    if (this.failed) throw this.failed;
    await this.probe.run(timeoutMs, () => this.failed !== undefined);
  }

  /**
   * Queue one encoded command; resolves once the block carrying it was acknowledged, with
   * that block's sequence number. The MCU runs a block once (a repeated block is NAKed, not
   * run again) and sends its answers before its ack, and the link delivers in order: so by
   * the time this resolves, the command's answer (a block numbered one higher) has been
   * passed to `onBlock`, or it was lost on the way and will never come.
   */
  send(bytes: number[], opts: SendOptions = {}): Promise<number> {
    if (this.failed) return Promise.reject(this.failed);
    if (bytes.length > MESSAGE_PAYLOAD_MAX) return Promise.reject(new RangeError(`command of ${bytes.length} bytes does not fit a message block`));
    return new Promise((resolve, reject) => {
      this.ready.push({ bytes, exclusive: opts.exclusive ?? false, resolve, reject, ...(opts.onPacked ? { onPacked: opts.onPacked } : {}) });
      this.schedulePump();
    });
  }

  /** Stop timers and detach from the transport; pending commands fail. */
  close(): void {
    this.fail(new DeviceError('closed', 'session closed'));
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Defer so commands queued in the same tick share a block.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Send as many blocks as the window allows. */
  private pump(): void {
    if (!this.probe.answered || this.failed) return;
    // The blocks built in one pass leave in one write: one system call, and one read for
    // whatever relays them (a USB packet, a pty).
    const out: Uint8Array[] = [];
    try {
      this.fillWindow(out);
    } finally {
      if (out.length === 1) void this.rawWrite(out[0]!);
      else if (out.length) void this.rawWrite(concatBytes(out));
    }
  }

  private fillWindow(out: Uint8Array[]): void {
    while (this.ready.length) {
      if (this.sendSeq - this.receiveSeq >= MAX_PENDING_BLOCKS) return;
      if (this.sendSeq > this.receiveSeq && this.receiveWindow && !this.sent.fits(this.receiveWindow, this.lastAckSeq < this.receiveSeq, this.ready.nextBlockPayload() + MESSAGE_MIN)) return;
      const { content, commands } = this.ready.takeBlock();
      const seq = this.sendSeq;
      const bytes = encodeBlock(seq, content);
      const now = this.now();
      const start = Math.max(now, this.idleTime);
      this.idleTime = start + this.byteTime * bytes.length;
      if (!this.sent.length) this.armRetransmit(this.idleTime + this.rtt.rto - now);
      if (!this.rttSampleSeq) this.rttSampleSeq = seq;
      this.sendSeq++;
      this.sent.push({ seq, bytes, doneTime: this.idleTime });
      for (const c of commands) {
        this.waiters.add({ seq, resolve: c.resolve, reject: c.reject });
        c.onPacked?.(seq);
      }
      this.opts.trace?.(`tx seq=${seq & MESSAGE_SEQ_MASK} len=${bytes.length}`);
      out.push(bytes);
    }
  }

  private async rawWrite(bytes: Uint8Array): Promise<void> {
    try {
      this.stats_.bytesWritten += bytes.length;
      await this.opts.transport.write(bytes);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private onData(chunk: Uint8Array): void {
    this.stats_.bytesRead += chunk.length;
    for (const b of this.decoder.push(chunk)) this.onBlock(b);
  }

  private onBlock(block: Block): void {
    const now = this.now();
    const len = block.bytes.length;
    if (!this.probe.answered) {
      // Only an ack/NAK answers the probe; stale responses from an earlier session do not.
      if (len !== MESSAGE_MIN) return;
      this.resync(block.seq);
      this.lastValidRx = now;
      this.probe.answer();
      this.schedulePump();
      return;
    }
    const delta = (block.seq - this.receiveSeq) & MESSAGE_SEQ_MASK;
    const rseq = this.receiveSeq + delta;
    const advanced = rseq !== this.receiveSeq;
    if (advanced) {
      if (rseq > this.sendSeq) {
        // Acks for blocks never sent: the MCU restarted or another host talked to it.
        // After a few, adopt its numbering and resend what is outstanding.
        if (len === MESSAGE_MIN && ++this.badAcks >= 3) {
          this.opts.trace?.(`resync to seq ${block.seq}`);
          this.resync(block.seq);
          this.retransmit(now, false);
        }
        return;
      }
      this.updateReceiveSeq(now, rseq);
    }
    this.badAcks = 0;
    // Liveness: an ack/NAK, or a block that moves the sequence on. A device that echoes what
    // it is sent returns our own blocks with the number we are waiting on; those must not keep
    // a dead conversation alive forever.
    if (len === MESSAGE_MIN || advanced || !this.sent.length) this.lastValidRx = now;
    if (len === MESSAGE_MIN) {
      if (this.lastAckSeq < rseq) this.lastAckSeq = rseq;
      else if (rseq > this.ignoreNakSeq && this.sent.length) {
        // A repeated ack is a NAK: fast retransmit.
        this.opts.trace?.(`nak seq=${block.seq}`);
        this.retransmit(now, true);
      }
    } else {
      this.opts.onBlock(block, rseq);
    }
    // Commands of block N are done once a block past N (for responses: past N+1) arrives,
    // so a query's response, sent before the MCU's ack, is always seen first.
    const wakeSeq = rseq - 1 - (len > MESSAGE_MIN ? 1 : 0);
    this.waiters.wakeThrough(wakeSeq);
    if (this.waiters.anyBelow(this.receiveSeq)) this.waiters.armLostAck(Math.max(10, this.rtt.rto * 1000), () => this.receiveSeq);
    this.schedulePump();
  }

  private resync(wireSeq: number): void {
    // Renumber outstanding blocks from the MCU's expected number, above everything used so far.
    let base = this.sendSeq + 16;
    base += (wireSeq - base) & MESSAGE_SEQ_MASK;
    const shift = base - (this.sent.first?.seq ?? this.sendSeq);
    this.sent.renumber(shift);
    this.waiters.renumber(shift);
    this.sendSeq += shift;
    this.receiveSeq = base;
    this.lastAckSeq = base;
    this.ignoreNakSeq = base;
    this.retransmitSeq = base;
    this.rttSampleSeq = 0;
    this.badAcks = 0;
  }

  private updateReceiveSeq(now: number, rseq: number): void {
    this.sent.acknowledge(rseq);
    this.receiveSeq = rseq;
    if (this.rttSampleSeq && rseq > this.rttSampleSeq && this.sent.lastReceiveSentTime) {
      this.rtt.sample(Math.max(0, now - this.sent.lastReceiveSentTime));
      this.rttSampleSeq = 0;
    }
    if (!this.sent.first) this.clearRetransmit();
    else this.armRetransmit(this.rtt.rto + this.byteTime * this.sent.first.bytes.length);
  }

  private armRetransmit(delaySec: number): void {
    this.clearRetransmit();
    this.retransmitTimer = setTimeout(() => this.retransmit(this.now(), false), Math.max(0, delaySec * 1000));
  }

  private clearRetransmit(): void {
    if (this.retransmitTimer) clearTimeout(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }

  private retransmit(now: number, dueToNak: boolean): void {
    const first = this.sent.first;
    if (this.failed || !first) return;
    const buf = this.sent.wireBytes();
    this.stats_.bytesRetransmitted += buf.length;
    this.stats_.retransmits++;
    this.opts.trace?.(`retransmit ${this.sent.length} block(s) from seq ${first.seq & MESSAGE_SEQ_MASK} (${dueToNak ? 'nak' : 'timeout'}), rto=${this.rtt.rto.toFixed(3)}`);
    if (dueToNak) {
      this.ignoreNakSeq = this.receiveSeq;
      if (this.receiveSeq < this.retransmitSeq) this.ignoreNakSeq = this.retransmitSeq; // no third NAK retransmit
    } else {
      this.rtt.backoff();
      // Klipper ignores every NAK until the whole retransmitted window is acknowledged
      // (ignore_nak_seq = send_seq), so a second loss inside it waits out the doubled RTO.
      // NAKs for the current position can still be echoes of the old stream and are ignored;
      // a NAK further on means the MCU took part of the resend and then lost a block again:
      // resend at once.
      this.ignoreNakSeq = this.receiveSeq;
    }
    this.retransmitSeq = this.sendSeq;
    this.rttSampleSeq = 0;
    this.idleTime = now + this.byteTime * buf.length;
    void this.rawWrite(buf);
    this.armRetransmit(this.rtt.rto + this.byteTime * (first.bytes.length + 1));
  }

  private checkAlive(): void {
    if (this.failed || !this.probe.answered) return;
    if (!this.sent.length && !this.waiters.length) {
      this.lastValidRx = this.now();
      return;
    }
    if ((this.now() - this.lastValidRx) * 1000 > this.timeoutMs) {
      this.fail(stoppedAnswering(this.opts.transport.name, this.sent.length));
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.clearRetransmit();
    if (this.watchdog) clearInterval(this.watchdog);
    for (const u of this.unsubscribe) u();
    this.ready.rejectAll(err);
    this.waiters.rejectAll(err);
    this.probe.fail(err);
  }

  get error(): Error | undefined {
    return this.failed;
  }
}

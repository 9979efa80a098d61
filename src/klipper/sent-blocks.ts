import { encodeBlock, MESSAGE_MAX, MESSAGE_SYNC } from './frame.js';

export interface SentBlock {
  seq: number;
  bytes: Uint8Array;
  /** When the block should have finished leaving the host (Klipper's receive_time estimate). */
  doneTime: number;
}

/**
 * The blocks sent and not yet acknowledged (serialqueue.c's sent_queue), with the byte count
 * the MCU may still hold: the host never puts more in flight than the MCU's receive buffer.
 */
export class SentBlocks {
  private blocks: SentBlock[] = [];
  /** Bytes of the unacknowledged blocks. */
  private needAckBytes = 0;
  /** Size of the block acknowledged last. */
  private lastAckBytes = 0;
  /** When the block acknowledged last finished leaving the host: the start of a round trip. */
  lastReceiveSentTime = 0;

  get length(): number {
    return this.blocks.length;
  }

  get first(): SentBlock | undefined {
    return this.blocks[0];
  }

  push(b: SentBlock): void {
    this.needAckBytes += b.bytes.length;
    this.blocks.push(b);
  }

  /**
   * Room for one more block of `next` bytes (Klipper's serialqueue reserves MESSAGE_MAX, as it
   * decides before building the block; the block is built already here, so a short one need
   * not wait for room it will not use) in a receive window of `window` bytes; `ackPending`: a
   * response arrived for the last block but its ack did not yet, so the MCU may still hold
   * that block too.
   */
  fits(window: number, ackPending: boolean, next = MESSAGE_MAX): boolean {
    let need = this.needAckBytes + Math.min(next, MESSAGE_MAX);
    if (ackPending) need += this.lastAckBytes;
    return need <= window;
  }

  /** Drop the blocks the MCU acknowledged by expecting `rseq` next. */
  acknowledge(rseq: number): void {
    while (this.blocks.length && this.blocks[0]!.seq < rseq) {
      const s = this.blocks.shift()!;
      this.needAckBytes -= s.bytes.length;
      if (s.seq === rseq - 1) {
        this.lastReceiveSentTime = s.doneTime;
        this.lastAckBytes = s.bytes.length;
      }
    }
  }

  /** Renumber the outstanding blocks by `shift` (the MCU's numbering was adopted). */
  renumber(shift: number): void {
    for (const s of this.blocks) {
      s.seq += shift;
      s.bytes = encodeBlock(s.seq, s.bytes.subarray(2, s.bytes.length - 3));
    }
  }

  /** Everything outstanding as one write, after a sync byte: what a retransmit sends. */
  wireBytes(): Uint8Array {
    const n = 1 + this.blocks.reduce((a, b) => a + b.bytes.length, 0);
    const out = new Uint8Array(n);
    out[0] = MESSAGE_SYNC;
    let o = 1;
    for (const b of this.blocks) {
      out.set(b.bytes, o);
      o += b.bytes.length;
    }
    return out;
  }
}

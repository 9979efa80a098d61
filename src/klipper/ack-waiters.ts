interface Waiter {
  seq: number;
  resolve: (seq: number) => void;
  reject: (e: Error) => void;
}

/**
 * The callers of SendQueue.send waiting for the block that carried their command to be done,
 * in block order: resolved with the block's sequence number once a later block arrives.
 */
export class AckWaiters {
  private list: Waiter[] = [];
  private lostAckTimer: NodeJS.Timeout | undefined;

  get length(): number {
    return this.list.length;
  }

  add(w: Waiter): void {
    this.list.push(w);
  }

  /** Resolve every waiter of a block numbered `seq` or lower. */
  wakeThrough(seq: number): void {
    while (this.list.length && this.list[0]!.seq <= seq) this.wake(this.list.shift()!);
  }

  /** Some waiter's block is below `seq`. */
  anyBelow(seq: number): boolean {
    return this.list.length > 0 && this.list[0]!.seq < seq;
  }

  /**
   * A response came but the ack after it was lost, and nothing else is in flight to carry a
   * later sequence number. The MCU sends all of a block's responses before its ack, so after
   * a short wait the block is done either way (Klipper's host relies on its periodic
   * get_clock traffic for this): then wake the waiters below `receiveSeq()`.
   */
  armLostAck(delayMs: number, receiveSeq: () => number): void {
    this.clearTimer();
    this.lostAckTimer = setTimeout(() => {
      this.lostAckTimer = undefined;
      this.wakeThrough(receiveSeq() - 1);
    }, delayMs);
  }

  renumber(shift: number): void {
    for (const w of this.list) w.seq += shift;
  }

  rejectAll(err: Error): void {
    this.clearTimer();
    for (const w of this.list.splice(0)) w.reject(err);
  }

  private wake(w: Waiter): void {
    w.resolve(w.seq);
  }

  private clearTimer(): void {
    if (this.lostAckTimer) clearTimeout(this.lostAckTimer);
    this.lostAckTimer = undefined;
  }
}

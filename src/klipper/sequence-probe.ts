import { encodeBlock, MESSAGE_SYNC } from './frame.js';

/**
 * How a host learns the MCU's sequence number before its first command: it sends empty
 * blocks, with growing pauses, until the MCU answers one (accepted or NAKed, the answer
 * carries the sequence number it expects next) or the time is up.
 */
export class SequenceProbe {
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  answered = false;

  constructor(
    private readonly o: {
      now: () => number;
      write: (bytes: Uint8Array) => void;
      /** The error for a probe that timed out, asked for at that moment. */
      timeoutError: () => Error;
    },
  ) {}

  /** Probe until answered, `stopped()` or `timeoutMs`; every concurrent caller gets the same outcome. */
  async run(timeoutMs: number, stopped: () => boolean): Promise<void> {
    if (this.answered) return;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    const start = this.o.now();
    let interval = 0.05;
    let timer: NodeJS.Timeout | undefined;
    const probe = (): void => {
      if (this.answered || stopped()) return;
      if ((this.o.now() - start) * 1000 >= timeoutMs) return this.fail(this.o.timeoutError());
      this.o.write(Uint8Array.of(MESSAGE_SYNC, ...encodeBlock(0)));
      timer = setTimeout(probe, interval * 1000);
      interval = Math.min(interval * 2, 0.5);
    };
    probe();
    try {
      await done;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** The MCU answered a probe. */
  answer(): void {
    this.answered = true;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  fail(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}

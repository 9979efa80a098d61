import { MESSAGE_PAYLOAD_MAX } from './frame.js';

export interface ReadyCommand {
  bytes: number[];
  /** Never shares a block with another exclusive command (see SendOptions.exclusive). */
  exclusive: boolean;
  resolve: (seq: number) => void;
  reject: (e: Error) => void;
  /** Told the block's number when the command is put in a block (see SendOptions.onPacked). */
  onPacked?: (seq: number) => void;
}

/** Encoded commands waiting for a block, in the order they were queued. */
export class ReadyCommands {
  private readonly queue: ReadyCommand[] = [];

  get length(): number {
    return this.queue.length;
  }

  push(c: ReadyCommand): void {
    this.queue.push(c);
  }

  /** Payload bytes of the block `takeBlock` would build now (0 when nothing is ready). */
  nextBlockPayload(): number {
    let n = 0;
    let exclusive = false;
    for (const c of this.queue) {
      if (n + c.bytes.length > MESSAGE_PAYLOAD_MAX || (exclusive && c.exclusive)) break;
      exclusive ||= c.exclusive;
      n += c.bytes.length;
    }
    return n;
  }

  /**
   * Take the commands of the next block: as many as fit its payload, in order, stopping at a
   * second exclusive command so that a block's number names one exclusive command's answer.
   */
  takeBlock(): { content: number[]; commands: ReadyCommand[] } {
    const content: number[] = [];
    const commands: ReadyCommand[] = [];
    let exclusive = false;
    while (this.queue.length && content.length + this.queue[0]!.bytes.length <= MESSAGE_PAYLOAD_MAX) {
      if (exclusive && this.queue[0]!.exclusive) break;
      const c = this.queue.shift()!;
      exclusive ||= c.exclusive;
      content.push(...c.bytes);
      commands.push(c);
    }
    return { content, commands };
  }

  rejectAll(err: Error): void {
    for (const c of this.queue.splice(0)) c.reject(err);
  }
}

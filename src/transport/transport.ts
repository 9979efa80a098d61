/**
 * A byte pipe to an MCU. Implementations: a real serial port (serial-port.ts), an in-memory
 * pair (memory.ts) and the simulator's link (src/sim/link.ts).
 *
 * Contracts:
 * - `open()` resolves once bytes can flow; it rejects with a typed error (IoError/DeviceError)
 *   naming the cause. Calling it on an open transport is an error.
 * - `write()` resolves when the bytes were handed to the OS/peer (not when they arrived).
 * - Data listeners receive chunks in order; chunk boundaries mean nothing.
 * - When the peer disappears (USB unplugged, simulator reset), close listeners fire once with
 *   the cause; `close()` by the owner fires them with `undefined`. Both are idempotent.
 */
export interface Transport {
  /** Path or description, for messages. */
  readonly name: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Subscribe to received bytes; returns an unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Subscribe to the end of the connection; `cause` is set when it was not our close(). */
  onClose(listener: (cause?: Error) => void): () => void;
}

/** Small helper the implementations share: listener sets with safe emit. */
export class TransportEvents {
  private readonly dataListeners = new Set<(chunk: Uint8Array) => void>();
  private readonly closeListeners = new Set<(cause?: Error) => void>();

  onData(l: (chunk: Uint8Array) => void): () => void {
    this.dataListeners.add(l);
    return () => this.dataListeners.delete(l);
  }
  onClose(l: (cause?: Error) => void): () => void {
    this.closeListeners.add(l);
    return () => this.closeListeners.delete(l);
  }
  emitData(chunk: Uint8Array): void {
    for (const l of [...this.dataListeners]) l(chunk);
  }
  emitClose(cause?: Error): void {
    for (const l of [...this.closeListeners]) l(cause);
  }
}

/**
 * Read a transport as an async iterator of chunks (ends when it closes). Chunks that arrive
 * while the consumer is busy are queued.
 */
export async function* readChunks(t: Transport): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let closed = false;
  let wake: (() => void) | undefined;
  const offData = t.onData((c) => {
    queue.push(c);
    wake?.();
  });
  const offClose = t.onClose(() => {
    closed = true;
    wake?.();
  });
  try {
    for (;;) {
      if (queue.length) {
        yield queue.shift()!;
        continue;
      }
      if (closed || !t.isOpen) return;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  } finally {
    offData();
    offClose();
  }
}

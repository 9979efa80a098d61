import { DeviceError } from '../errors.js';
import { TransportEvents, type Transport } from './transport.js';

/**
 * One end of an in-memory duplex. Writes are delivered to the other end asynchronously
 * (next macrotask), in order, so code under test sees the same interleaving as with a port.
 */
export class MemoryTransport implements Transport {
  private readonly events = new TransportEvents();
  private open_ = false;
  peer: MemoryTransport | undefined;

  constructor(readonly name: string) {}

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (this.open_) throw new DeviceError('already-open', `${this.name} is already open`);
    this.open_ = true;
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.open_) throw new DeviceError('not-open', `${this.name} is not open`, { hint: 'Open the transport first.' });
    const peer = this.peer;
    const copy = data.slice();
    setImmediate(() => {
      if (peer?.open_) peer.events.emitData(copy);
    });
  }

  async close(): Promise<void> {
    this.shut(undefined);
  }

  /** End this side as if the peer vanished (used by simulated disconnects). */
  drop(cause: Error): void {
    this.shut(cause);
  }

  private shut(cause: Error | undefined): void {
    if (!this.open_) return;
    this.open_ = false;
    this.events.emitClose(cause);
  }

  onData(l: (chunk: Uint8Array) => void): () => void {
    return this.events.onData(l);
  }
  onClose(l: (cause?: Error) => void): () => void {
    return this.events.onClose(l);
  }
}

/** Two connected ends: bytes written to `a` arrive at `b` and the other way round. */
export function createMemoryPair(names: [string, string] = ['memory:a', 'memory:b']): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport(names[0]);
  const b = new MemoryTransport(names[1]);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

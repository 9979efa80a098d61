import { afterEach, describe, expect, it } from 'vitest';
import { BlockDecoder, encodeBlock, type Block } from '../../src/klipper/frame.js';
import { SendQueue } from '../../src/klipper/send-queue.js';
import { createMemoryPair, type MemoryTransport } from '../../src/transport/memory.js';

/** A peer that answers the sync probe, records blocks and acks only when told to. */
async function scripted(): Promise<{ host: MemoryTransport; seen: Array<{ t: number; block: Block }>; ack: (seq: number) => void }> {
  const [host, dev] = createMemoryPair();
  await host.open();
  await dev.open();
  const dec = new BlockDecoder();
  const seen: Array<{ t: number; block: Block }> = [];
  let synced = false;
  dev.onData((c) => {
    for (const b of dec.push(c)) {
      if (!synced && b.content.length === 0) {
        synced = true;
        void dev.write(encodeBlock(5)); // "I expect sequence 5"
        continue;
      }
      seen.push({ t: performance.now(), block: b });
    }
  });
  return { host, seen, ack: (seq) => void dev.write(encodeBlock(seq)) };
}

const queues: SendQueue[] = [];
afterEach(() => {
  for (const q of queues.splice(0)) q.close();
});

function queue(host: MemoryTransport, receiveWindow: number): SendQueue {
  const q = new SendQueue({ transport: host, onBlock: () => undefined, receiveWindow, timeoutMs: 60000 });
  queues.push(q);
  return q;
}

describe('send queue (serialqueue.c rules)', () => {
  it('numbers blocks from the sequence the MCU announced', async () => {
    const { host, seen } = await scripted();
    const q = queue(host, 0);
    await q.sync();
    void q.send([1, 2, 3]).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    expect(seen[0]!.block.seq).toBe(5);
  });

  it('keeps unacknowledged bytes + one more block within RECEIVE_WINDOW', async () => {
    const { host, seen, ack } = await scripted();
    const q = queue(host, 192);
    await q.sync();
    const cmd = new Array(59).fill(0); // one full 64-byte block per command
    for (let i = 0; i < 6; i++) void q.send(cmd).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    // 0 + 64 <= 192, 64 + 64 <= 192, 128 + 64 <= 192, then 192 + 64 > 192: three in flight
    expect(seen.map((s) => s.block.seq)).toEqual([5, 6, 7]);
    ack(6); // the first is acknowledged: room for one more
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((s) => s.block.seq)).toEqual([5, 6, 7, 8]);
  });

  it('never has more than 12 blocks outstanding without a window', async () => {
    const { host, seen } = await scripted();
    const q = queue(host, 0);
    await q.sync();
    for (let i = 0; i < 20; i++) void q.send(new Array(59).fill(1)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    expect(new Set(seen.map((s) => s.block.seq)).size).toBe(12);
  });

  it('retransmits everything outstanding on timeout, doubling the RTO each time', async () => {
    const { host, seen } = await scripted();
    const q = queue(host, 0);
    await q.sync();
    void q.send([9]).catch(() => undefined);
    void q.send(new Array(59).fill(2)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 420));
    const times = seen.filter((s) => s.block.seq === 5).map((s) => s.t);
    expect(times.length).toBeGreaterThanOrEqual(4); // 0, +25, +50, +100, +200 ms
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]! * 1.5);
    expect(q.stats.retransmits).toBe(times.length - 1);
  });

  it('resends at once on a NAK (a repeated ack)', async () => {
    const { host, seen, ack } = await scripted();
    const q = queue(host, 0);
    await q.sync();
    const done = q.send([7]);
    void q.send(new Array(59).fill(3)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    ack(6); // first block taken
    await done;
    const before = seen.length;
    ack(6); // again: the MCU still wants 6, so block 6 was lost
    await new Promise((r) => setTimeout(r, 5));
    expect(seen.length).toBeGreaterThan(before);
    expect(seen[seen.length - 1]!.block.seq).toBe(6);
    expect(q.stats.retransmits).toBe(1);
  });

  it('gives exclusive commands a block each (others may share it) and resolves with the block number', async () => {
    const { host, seen, ack } = await scripted();
    const q = queue(host, 0);
    await q.sync();
    const p = [q.send([1], { exclusive: true }), q.send([2]), q.send([3], { exclusive: true }), q.send([4], { exclusive: true }), q.send([5])];
    await new Promise((r) => setTimeout(r, 10));
    expect(seen.map((s) => Array.from(s.block.content))).toEqual([[1, 2], [3], [4, 5]]);
    ack(8); // all three taken
    expect((await Promise.all(p)).map((n) => n & 15)).toEqual([5, 5, 6, 7, 7]);
  });

  it('passes each data block on with its sequence number, past the 4-bit wrap', async () => {
    const [host, dev] = createMemoryPair();
    await host.open();
    await dev.open();
    const dec = new BlockDecoder();
    let next = 14;
    dev.onData((c) => {
      for (const b of dec.push(c)) {
        if (b.content.length === 0) {
          void dev.write(encodeBlock(next & 15));
          continue;
        }
        // Answer, then ack, as the MCU does: both carry the next sequence it expects.
        next++;
        void dev.write(encodeBlock(next & 15, [0x42]));
        void dev.write(encodeBlock(next & 15));
      }
    });
    const got: number[] = [];
    const q = new SendQueue({ transport: host, onBlock: (_b, seq) => got.push(seq), receiveWindow: 0, timeoutMs: 60000 });
    queues.push(q);
    await q.sync();
    const sent: number[] = [];
    for (let i = 0; i < 4; i++) sent.push(await q.send([i], { exclusive: true }));
    expect(sent.map((n) => n & 15)).toEqual([14, 15, 0, 1]);
    expect(got).toEqual(sent.map((n) => n + 1));
  });

  it('onPacked names the block a command travels in before the block is written', async () => {
    const { host, seen } = await scripted();
    const q = queue(host, 0);
    await q.sync();
    const packed: Array<{ seq: number; written: number }> = [];
    void q.send([1], { exclusive: true, onPacked: (seq) => packed.push({ seq, written: seen.length }) }).catch(() => undefined);
    void q.send([2], { exclusive: true, onPacked: (seq) => packed.push({ seq, written: seen.length }) }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    // Sequence numbers are unbounded in the queue; their low 4 bits go on the wire.
    expect(packed.map((p) => ({ seq: p.seq & 15, written: p.written }))).toEqual([
      { seq: 5, written: 0 },
      { seq: 6, written: 0 },
    ]);
    expect(packed[1]!.seq).toBe(packed[0]!.seq + 1);
    expect(seen.map((s) => s.block.seq)).toEqual([5, 6]);
  });

  it('the blocks one pass builds leave in a single write', async () => {
    const { host, seen } = await scripted();
    const writes: number[] = [];
    const write = host.write.bind(host);
    host.write = (b: Uint8Array) => {
      writes.push(b.length);
      return write(b);
    };
    const q = queue(host, 0);
    await q.sync();
    writes.length = 0;
    for (let i = 0; i < 3; i++) void q.send(new Array(59).fill(i)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    expect(seen.map((s) => s.block.seq)).toEqual([5, 6, 7]);
    expect(writes).toEqual([3 * 64]);
  });
});

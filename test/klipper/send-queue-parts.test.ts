/** The parts SendQueue is built from, each against the serialqueue.c rule it keeps. */
import { describe, expect, it } from 'vitest';
import { ReadyCommands, type ReadyCommand } from '../../src/klipper/ready-commands.js';
import { MAX_RTO, MIN_RTO, RtoEstimator } from '../../src/klipper/rto.js';
import { SentBlocks } from '../../src/klipper/sent-blocks.js';
import { BlockDecoder, encodeBlock, MESSAGE_MAX, MESSAGE_PAYLOAD_MAX, MESSAGE_SYNC } from '../../src/klipper/frame.js';

const cmd = (n: number, exclusive = false): ReadyCommand => ({ bytes: new Array<number>(n).fill(n), exclusive, resolve: () => undefined, reject: () => undefined });

describe('RtoEstimator', () => {
  it('starts at the minimum, takes 10x the first sample as srtt, and stays within the bounds', () => {
    const r = new RtoEstimator();
    expect(r.rto).toBe(MIN_RTO);
    r.sample(0.01);
    expect(r.srtt).toBeCloseTo(0.1);
    expect(r.rttvar).toBeCloseTo(0.005);
    expect(r.rto).toBeCloseTo(0.1 + 0.02);
    r.sample(0.01);
    expect(r.srtt).toBeCloseTo((7 * 0.1 + 0.01) / 8);
    for (let i = 0; i < 200; i++) r.sample(0);
    expect(r.rto).toBe(MIN_RTO);
  });

  it('doubles on backoff up to MAX_RTO', () => {
    const r = new RtoEstimator();
    r.backoff();
    expect(r.rto).toBeCloseTo(2 * MIN_RTO);
    for (let i = 0; i < 20; i++) r.backoff();
    expect(r.rto).toBe(MAX_RTO);
  });
});

describe('ReadyCommands', () => {
  it('packs commands in order up to the payload size', () => {
    const q = new ReadyCommands();
    for (const n of [20, 20, 20, 5]) q.push(cmd(n));
    const first = q.takeBlock();
    expect(first.commands.map((c) => c.bytes.length)).toEqual([20, 20]);
    expect(first.content.length).toBeLessThanOrEqual(MESSAGE_PAYLOAD_MAX);
    expect(q.takeBlock().commands.map((c) => c.bytes.length)).toEqual([20, 5]);
    expect(q.length).toBe(0);
  });

  it('never puts two exclusive commands in one block, but lets others travel with one', () => {
    const q = new ReadyCommands();
    q.push(cmd(2, true));
    q.push(cmd(3));
    q.push(cmd(4, true));
    expect(q.takeBlock().commands.map((c) => c.bytes.length)).toEqual([2, 3]);
    expect(q.takeBlock().commands.map((c) => c.bytes.length)).toEqual([4]);
  });

  it('tells the payload of the block it would build next, as takeBlock builds it', () => {
    const q = new ReadyCommands();
    expect(q.nextBlockPayload()).toBe(0);
    for (const [n, ex] of [[20, false], [20, true], [20, false], [3, true], [9, false]] as const) q.push(cmd(n, ex));
    while (q.length) {
      const n = q.nextBlockPayload();
      expect(q.takeBlock().content.length).toBe(n);
    }
  });

  it('rejects what is still queued', () => {
    const q = new ReadyCommands();
    const errors: Error[] = [];
    q.push({ ...cmd(1), reject: (e) => errors.push(e) });
    q.rejectAll(new Error('closed'));
    expect([errors.map((e) => e.message), q.length]).toEqual([['closed'], 0]);
  });
});

describe('SentBlocks', () => {
  const block = (seq: number, n: number, doneTime = 0) => ({ seq, bytes: encodeBlock(seq, new Array<number>(n).fill(1)), doneTime });

  it('counts unacknowledged bytes against the receive window, plus the last block while its ack is pending', () => {
    const s = new SentBlocks();
    s.push(block(5, MESSAGE_PAYLOAD_MAX)); // a full 64-byte block
    expect(s.fits(3 * MESSAGE_MAX, false)).toBe(true);
    s.push(block(6, MESSAGE_PAYLOAD_MAX));
    expect(s.fits(3 * MESSAGE_MAX, false)).toBe(true);
    s.push(block(7, MESSAGE_PAYLOAD_MAX));
    expect(s.fits(3 * MESSAGE_MAX, false)).toBe(false);
    s.acknowledge(6);
    expect(s.length).toBe(2);
    expect(s.fits(3 * MESSAGE_MAX, false)).toBe(true);
    expect(s.fits(3 * MESSAGE_MAX, true)).toBe(false);
  });

  it('lets a short block into room a full one would not fit, never past the window', () => {
    const s = new SentBlocks();
    s.push(block(1, MESSAGE_PAYLOAD_MAX));
    s.push(block(2, MESSAGE_PAYLOAD_MAX));
    s.push(block(3, 14)); // 19 bytes framed: 147 of 192 outstanding
    expect(s.fits(3 * MESSAGE_MAX, false)).toBe(false);
    expect(s.fits(3 * MESSAGE_MAX, false, 45)).toBe(true);
    expect(s.fits(3 * MESSAGE_MAX, false, 46)).toBe(false);
    // A block is never counted larger than MESSAGE_MAX (the most a block can be).
    expect(s.fits(3 * MESSAGE_MAX + 19, false, 500)).toBe(true);
  });

  it('remembers when the block acknowledged last left the host', () => {
    const s = new SentBlocks();
    s.push(block(1, 3, 0.5));
    s.push(block(2, 3, 0.7));
    s.acknowledge(3);
    expect([s.length, s.lastReceiveSentTime]).toEqual([0, 0.7]);
  });

  it('renumbers outstanding blocks and sends them all after a sync byte', () => {
    const s = new SentBlocks();
    s.push(block(1, 3));
    s.push(block(2, 4));
    s.renumber(16);
    expect(s.first!.seq).toBe(17);
    const wire = s.wireBytes();
    expect(wire[0]).toBe(MESSAGE_SYNC);
    const blocks = new BlockDecoder().push(wire);
    expect(blocks.map((b) => [b.seq, b.content.length])).toEqual([
      [17 & 0xf, 3],
      [18 & 0xf, 4],
    ]);
  });
});

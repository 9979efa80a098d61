import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc16Ccitt } from '../../src/klipper/crc16.js';
import { decodeVlq, encodeVlq } from '../../src/klipper/vlq.js';
import { BlockDecoder, checkBlock, encodeBlock } from '../../src/klipper/frame.js';

const enc = (v: number): number[] => {
  const out: number[] = [];
  encodeVlq(out, v);
  return out;
};

describe('VLQ (Klipper docs/Protocol.md table)', () => {
  it('uses the documented byte counts at each boundary', () => {
    const table: Array<[number, number]> = [
      [-32, 1], [95, 1], [-33, 2], [96, 2],
      [-4096, 2], [12287, 2], [-4097, 3], [12288, 3],
      [-524288, 3], [1572863, 3], [-524289, 4], [1572864, 4],
      [-67108864, 4], [201326591, 4], [-67108865, 5], [201326592, 5],
      [-2147483648, 5],
    ];
    for (const [v, n] of table) expect(enc(v).length, String(v)).toBe(n);
  });

  it('encodes known values byte for byte', () => {
    expect(enc(0)).toEqual([0x00]);
    expect(enc(95)).toEqual([0x5f]);
    expect(enc(-1)).toEqual([0x7f]);
    expect(enc(96)).toEqual([0x80, 0x60]);
    expect(enc(250000)).toEqual([0x8f, 0xa1, 0x10]);
    // like the firmware's encode_int: 0xffffffff is -1 as int32, one byte
    expect(enc(0xffffffff)).toEqual([0x7f]);
  });

  it('round-trips every int32 and uint32', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => {
        expect(decodeVlq(enc(v), 0, true).value).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        expect(decodeVlq(enc(v), 0, false).value).toBe(v);
      }),
    );
  });

  it('refuses to read past the end', () => {
    expect(() => decodeVlq([0x80], 0)).toThrow();
  });
});

describe('CRC16-CCITT', () => {
  it('matches the standard check value (CRC-16/MCRF4XX of "123456789")', () => {
    // Klipper's crc16_ccitt is the reflected 0x8408 polynomial with init 0xffff, no xorout.
    expect(crc16Ccitt(new TextEncoder().encode('123456789'))).toBe(0x6f91);
  });
  it('gives the well-known bytes of an empty block with sequence 0', () => {
    // An ack/nak for sequence 0: 05 10 <crc hi> <crc lo> 7e
    const b = encodeBlock(0);
    expect(b[0]).toBe(5);
    expect(b[1]).toBe(0x10);
    expect((b[2]! << 8) | b[3]!).toBe(crc16Ccitt([5, 0x10]));
    expect(b[4]).toBe(0x7e);
  });
});

describe('message blocks', () => {
  it('checks length, sequence marker, sync and CRC', () => {
    const b = encodeBlock(3, [1, 2, 3]);
    expect(checkBlock(b, b.length)).toBe(8);
    expect(checkBlock(b, 6)).toBe(0); // needs more
    const bad = b.slice();
    bad[3] ^= 1;
    expect(checkBlock(bad, bad.length)).toBe(-8); // discard through the sync byte
    const badSeq = b.slice();
    badSeq[1] = 0x23;
    expect(checkBlock(badSeq, badSeq.length)).toBeLessThan(0);
  });

  it('resynchronises after garbage, split reads and corrupt blocks', () => {
    const d = new BlockDecoder();
    const a = encodeBlock(1, [0x7e, 0x7e]); // sync bytes inside content are allowed
    const c = encodeBlock(2, [9]);
    const corrupt = encodeBlock(5, [1, 2]);
    corrupt[2] ^= 0xff;
    const stream = Uint8Array.from([0x01, 0x02, 0x03, 0x7e, ...a, ...corrupt, ...c, 0x7e]);
    const found = [];
    for (let i = 0; i < stream.length; i += 3) found.push(...d.push(stream.subarray(i, i + 3)));
    expect(found.map((f) => f.seq)).toEqual([1, 2]);
    expect(Array.from(found[0]!.content)).toEqual([0x7e, 0x7e]);
    expect(d.invalidBytes).toBeGreaterThan(0);
  });

  it('does not wait for a corrupt length byte when valid blocks already follow', () => {
    const d = new BlockDecoder();
    const ack = encodeBlock(2);
    const broken = ack.slice();
    broken[0] = 0x25; // length flipped from 5 to 37
    expect(d.push(broken)).toEqual([]);
    const found = d.push(ack);
    expect(found.map((f) => f.seq)).toEqual([2]);
  });

  it('rejects content that does not fit', () => {
    expect(() => encodeBlock(0, new Array(60).fill(0))).toThrow(RangeError);
    expect(encodeBlock(0, new Array(59).fill(0)).length).toBe(64);
  });
});

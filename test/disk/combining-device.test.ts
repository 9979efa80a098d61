import { describe, expect, it } from 'vitest';
import type { BlockDevice } from '../../src/disk/block-device.js';
import { CombiningDevice } from '../../src/disk/combining-device.js';

const SS = 512;

/** A device in memory that logs every request and can be told to fail writes at a sector. */
class LoggingDevice implements BlockDevice {
  readonly name = 'mem';
  readonly sectorSize = SS;
  readonly readOnly = false;
  readonly data: Uint8Array;
  readonly log: string[] = [];
  failWriteAt = -1;
  constructor(readonly sectorCount: number) {
    this.data = new Uint8Array(sectorCount * SS);
    for (let i = 0; i < this.data.length; i++) this.data[i] = (i * 7 + (i >> 9)) & 0xff;
  }
  async read(lba: number, count: number): Promise<Uint8Array> {
    this.log.push(`R${lba}+${count}`);
    return this.data.slice(lba * SS, (lba + count) * SS);
  }
  async write(lba: number, data: Uint8Array): Promise<void> {
    const n = data.length / SS;
    this.log.push(`W${lba}+${n}`);
    if (this.failWriteAt >= lba && this.failWriteAt < lba + n) throw new Error(`write failed at ${this.failWriteAt}`);
    this.data.set(data, lba * SS);
  }
  async flush(): Promise<void> {
    this.log.push('F');
  }
  async close(): Promise<void> {
    this.log.push('C');
  }
}

function sectors(lba: number, count: number, seed: number): Uint8Array {
  const b = new Uint8Array(count * SS);
  for (let i = 0; i < b.length; i++) b[i] = (lba * 31 + i * 13 + seed) & 0xff;
  return b;
}

describe('CombiningDevice writes', () => {
  it('sends consecutive writes as runs no longer than the bound, in order, with the same bytes', async () => {
    const mem = new LoggingDevice(1024);
    const dev = new CombiningDevice(mem, { maxRunSectors: 8 });
    const expected = mem.data.slice();
    // A file written a 2-sector cluster at a time, then a FAT sector and a directory sector.
    for (let c = 0; c < 10; c++) {
      const d = sectors(100 + c * 2, 2, 1);
      expected.set(d, (100 + c * 2) * SS);
      await dev.write(100 + c * 2, d);
    }
    const fat = sectors(3, 1, 2);
    const dir = sectors(40, 1, 3);
    expected.set(fat, 3 * SS);
    expected.set(dir, 40 * SS);
    await dev.write(3, fat);
    await dev.write(40, dir);
    // The directory sector is held until the flush; everything before it went out in order.
    expect(mem.log).toEqual(['W100+8', 'W108+8', 'W116+4', 'W3+1']);
    await dev.flush();
    expect(mem.log).toEqual(['W100+8', 'W108+8', 'W116+4', 'W3+1', 'W40+1', 'F']);
    expect(Buffer.compare(mem.data, expected)).toBe(0);
    expect(dev.counters.deviceWrites).toBe(5);
  });

  it('sends what it holds before a read, so a read sees every earlier write', async () => {
    const mem = new LoggingDevice(64);
    const dev = new CombiningDevice(mem);
    const d = sectors(10, 2, 9);
    await dev.write(10, d);
    expect(mem.log).toEqual([]);
    const back = await dev.read(11, 1);
    expect(mem.log).toEqual(['W10+2', 'R11+1']);
    expect(Buffer.compare(back, d.subarray(SS))).toBe(0);
  });

  it('reports a held run that failed to the call that sent it, and flush reports one left at the end', async () => {
    const mem = new LoggingDevice(64);
    const dev = new CombiningDevice(mem);
    mem.failWriteAt = 5;
    await dev.write(4, sectors(4, 2, 1)); // held: no error yet
    await expect(dev.write(20, sectors(20, 1, 1))).rejects.toThrow('write failed at 5');
    // The failed run is not sent again, and the write that found the failure was not done.
    mem.failWriteAt = 30;
    await dev.write(30, sectors(30, 1, 1));
    await expect(dev.flush()).rejects.toThrow('write failed at 30');
    expect(mem.log).toEqual(['W4+2', 'W30+1']);
  });
});

describe('CombiningDevice read-ahead', () => {
  it('fetches an announced file in runs, without reading a sector more than announced', async () => {
    const mem = new LoggingDevice(4096);
    const dev = new CombiningDevice(mem, { maxRunSectors: 32 });
    const fileStart = 1000;
    const fileSectors = 88; // 45,000 bytes
    dev.readAhead(fileSectors);
    const got: Uint8Array[] = [];
    // FatFs's pattern: directory and FAT sectors, then the file a 4-sector cluster at a time
    // with a FAT read after the first cluster, and the last part sector through its buffer.
    await dev.read(40, 1);
    for (let s = 0; s < 84; s += 4) {
      got.push(await dev.read(fileStart + s, 4));
      if (s === 0) await dev.read(3, 1);
    }
    got.push(await dev.read(fileStart + 84, 3));
    got.push(await dev.read(fileStart + 87, 1));
    const all = Buffer.concat(got);
    expect(Buffer.compare(all, mem.data.subarray(fileStart * SS, (fileStart + fileSectors) * SS))).toBe(0);
    expect(mem.log).toEqual(['R40+1', 'R1000+32', 'R3+1', 'R1032+32', 'R1064+24']);
    const fetched = mem.log.filter((l) => l.startsWith('R10')).reduce((a, l) => a + Number(l.split('+')[1]), 0);
    expect(fetched).toBe(fileSectors);
  });

  it('passes reads through one to one when nothing was announced', async () => {
    const mem = new LoggingDevice(256);
    const dev = new CombiningDevice(mem);
    for (let s = 0; s < 16; s += 4) await dev.read(100 + s, 4);
    expect(mem.log).toEqual(['R100+4', 'R104+4', 'R108+4', 'R112+4']);
  });

  it('never serves a read-ahead sector that was written since', async () => {
    const mem = new LoggingDevice(256);
    const dev = new CombiningDevice(mem, { maxRunSectors: 16 });
    dev.readAhead(16);
    await dev.read(50, 4);
    const fresh = sectors(54, 1, 42);
    await dev.write(54, fresh);
    const back = await dev.read(54, 1);
    expect(Buffer.compare(back, fresh)).toBe(0);
    // The write dropped the fetched run; the stream goes on from the device.
    expect(mem.log).toEqual(['R50+16', 'W54+1', 'R54+12']);
  });
});

describe('CombiningDevice.seed (sectors someone else just read: the probe\'s boot sector)', () => {
  it('answers the next read of the seeded sector from the seed, without a read of the device below', async () => {
    const mem = new LoggingDevice(256);
    const dev = new CombiningDevice(mem);
    const boot = mem.data.slice(8 * SS, 9 * SS);
    dev.seed(8, boot);
    const back = await dev.read(8, 1);
    expect(Buffer.compare(back, boot)).toBe(0);
    expect(mem.log).toEqual([]);
    expect(dev.counters.deviceReads).toBe(0);
    expect(dev.counters.readAheadHits).toBe(1);
    // Anything else still goes to the device.
    await dev.read(9, 1);
    expect(mem.log).toEqual(['R9+1']);
  });

  it('serves any part of a multi-sector seed, and keeps its own copy of the bytes', async () => {
    const mem = new LoggingDevice(256);
    const dev = new CombiningDevice(mem);
    const head = mem.data.slice(0, 8 * SS);
    const mine = head.slice();
    dev.seed(0, mine);
    mine.fill(0xee); // the caller reuses its buffer: the seed must not change
    expect(Buffer.compare(await dev.read(2, 3), head.subarray(2 * SS, 5 * SS))).toBe(0);
    expect(Buffer.compare(await dev.read(0, 1), head.subarray(0, SS))).toBe(0);
    expect(mem.log).toEqual([]);
    // A read reaching past the seed goes to the device for all of it.
    await dev.read(6, 4);
    expect(mem.log).toEqual(['R6+4']);
  });

  it('a write over a seeded sector forgets the seed: the next read goes to the device and returns the written bytes', async () => {
    const mem = new LoggingDevice(256);
    const dev = new CombiningDevice(mem);
    dev.seed(4, mem.data.slice(4 * SS, 6 * SS));
    const fresh = sectors(5, 1, 77);
    await dev.write(5, fresh);
    const back = await dev.read(5, 1);
    expect(Buffer.compare(back, fresh)).toBe(0);
    expect(mem.log).toEqual(['W5+1', 'R5+1']);
    // The other seeded sector is forgotten too (the whole seed goes).
    await dev.read(4, 1);
    expect(mem.log).toEqual(['W5+1', 'R5+1', 'R4+1']);
  });

  it('a write next to the seed, not over it, keeps it', async () => {
    const mem = new LoggingDevice(256);
    const dev = new CombiningDevice(mem);
    const seeded = mem.data.slice(4 * SS, 6 * SS);
    dev.seed(4, seeded);
    await dev.write(6, sectors(6, 1, 5));
    const back = await dev.read(4, 2);
    expect(Buffer.compare(back, seeded)).toBe(0);
    expect(mem.log).toEqual(['W6+1']); // the held write went out before the read; no device read
  });

  it('is ignored while a read-ahead run is held (that run stays and keeps serving the stream)', async () => {
    const mem = new LoggingDevice(256);
    const dev = new CombiningDevice(mem, { maxRunSectors: 16 });
    dev.readAhead(16);
    await dev.read(50, 4); // fetches 50..65 and keeps the rest
    expect(mem.log).toEqual(['R50+16']);
    dev.seed(0, new Uint8Array(SS).fill(0xab));
    const zero = await dev.read(0, 1);
    expect(Buffer.compare(zero, mem.data.subarray(0, SS))).toBe(0);
    expect(mem.log).toEqual(['R50+16', 'R0+1']);
    const next = await dev.read(54, 4);
    expect(Buffer.compare(next, mem.data.subarray(54 * SS, 58 * SS))).toBe(0);
    expect(mem.log).toEqual(['R50+16', 'R0+1']);
  });

  it('ignores a seed that is empty or not whole sectors', async () => {
    const mem = new LoggingDevice(64);
    const dev = new CombiningDevice(mem);
    dev.seed(0, new Uint8Array(0));
    dev.seed(0, new Uint8Array(SS + 1));
    await dev.read(0, 1);
    expect(mem.log).toEqual(['R0+1']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { DirectSpiBus } from '../helpers/direct-bus.js';
import { SpiSdHost } from '../../src/sdcard/spi-sd-host.js';
import { DeviceError } from '../../src/errors.js';
import { makeCard, randomBytes, type CardFixture } from '../helpers/card-fixture.js';

const MiB = 1024 * 1024;
let fx: CardFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DeviceError);
    return (e as DeviceError).code;
  }
  throw new Error('expected a DeviceError');
}

describe('SPI host <-> emulated card', () => {
  for (const kind of ['SDSC', 'SDHC'] as const) {
    it(`initialises an ${kind} card and reads CID/CSD`, async () => {
      fx = makeCard(64 * MiB, { capacityType: kind, cid: { manufacturerId: 0x74, productName: 'TS64M', serialNumber: 42 } });
      const host = new SpiSdHost(new DirectSpiBus(fx.card));
      const info = await host.init();
      expect(info.bus).toBe('spi');
      expect(info.specVersion).toBe(2);
      expect(info.capacityType).toBe(kind);
      expect(info.highCapacity).toBe(kind === 'SDHC');
      expect(info.sectorCount).toBe((64 * MiB) / 512);
      expect(info.crcEnabled).toBe(true);
      expect(info.writeProtected).toBe(false);
      expect(info.cid.manufacturerName).toBe('Transcend');
      expect(info.cid.productName).toBe('TS64M');
      expect(info.cid.serialNumber).toBe(42);
      expect(fx.card.mode).toBe('spi');
    });

    it(`reads and writes ${kind} sectors byte-for-byte against the image file`, async () => {
      fx = makeCard(64 * MiB, { capacityType: kind });
      const host = new SpiSdHost(new DirectSpiBus(fx.card));
      await host.init();
      // Reads: single and multi-block, compared with the file on disk.
      const file = fx.fileSectors(0, 200);
      expect(await host.readBlocks(0, 1)).toEqual(file.subarray(0, 512));
      expect(await host.readBlocks(3, 40)).toEqual(file.subarray(3 * 512, 43 * 512));
      // Writes: one block, a multi-block run, and a run longer than one command.
      const one = randomBytes(512, 7);
      const run = randomBytes(512 * 37, 8);
      await host.writeBlocks(100, one);
      await host.writeBlocks(1000, run);
      const small = new SpiSdHost(new DirectSpiBus(fx.card), { maxBlocksPerCommand: 5 });
      await small.init();
      const long = randomBytes(512 * 23, 9);
      await small.writeBlocks(131071 - 23, long);
      expect(fx.fileSectors(100, 1)).toEqual(one);
      expect(fx.fileSectors(1000, 37)).toEqual(run);
      expect(fx.fileSectors(131071 - 23, 23)).toEqual(long);
      expect(fx.fileSectors(0, 100)).toEqual(file.subarray(0, 100 * 512));
      expect(fx.fileSectors(131071, 1)).toEqual(new Uint8Array(512));
      expect(await small.readBlocks(131071 - 23, 23)).toEqual(long);
      expect(fx.card.stats.blocksWritten).toBe(1 + 37 + 23);
    });
  }

  it('works with a version 1.x SDSC card (no CMD8) and without CRC', async () => {
    fx = makeCard(16 * MiB, { capacityType: 'SDSC', specVersion: 1 });
    const host = new SpiSdHost(new DirectSpiBus(fx.card), { crc: false });
    const info = await host.init();
    expect(info.specVersion).toBe(1);
    expect(info.highCapacity).toBe(false);
    expect(info.crcEnabled).toBe(false);
    const d = randomBytes(1024, 3);
    await host.writeBlocks(5, d);
    expect(fx.fileSectors(5, 2)).toEqual(d);
  });

  it('survives slow cards: long access and busy times, late responses, many init polls', async () => {
    fx = makeCard(8 * MiB, {
      capacityType: 'SDHC',
      ncrBytes: 8,
      initPolls: 50,
      timing: { readAccessUs: 20_000, writeBusyUs: 40_000, stopBusyUs: 5_000 },
    });
    fx.card.setSpiClock(4_000_000);
    const host = new SpiSdHost(new DirectSpiBus(fx.card), { busHz: 4_000_000 });
    await host.init();
    const d = randomBytes(512 * 4, 5);
    await host.writeBlocks(10, d);
    expect(await host.readBlocks(10, 4)).toEqual(d);
    expect(fx.card.stats.busyMicros).toBeGreaterThan(4 * 40_000);
  });

  it('does not care where the MCU splits messages (CS released between them)', async () => {
    fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
    for (const maxChunk of [1, 5, 7, 255]) {
      const host = new SpiSdHost(new DirectSpiBus(fx.card, { maxChunk }));
      await host.init();
      const d = randomBytes(512 * 3, maxChunk);
      await host.writeBlocks(maxChunk, d);
      expect(await host.readBlocks(maxChunk, 3)).toEqual(d);
      expect(fx.fileSectors(maxChunk, 3)).toEqual(d);
    }
  });

  it('needs few round trips: a 64-sector read is a handful of transfers, a write about one per sector', async () => {
    fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
    const bus = new DirectSpiBus(fx.card);
    const host = new SpiSdHost(bus);
    await host.init();
    await host.readBlocks(0, 1); // learn the access time
    let q = bus.counters.queries;
    const data = await host.readBlocks(0, 64);
    expect(data).toEqual(fx.fileSectors(0, 64));
    expect(bus.counters.queries - q).toBeLessThanOrEqual(8);
    q = bus.counters.queries;
    const before = bus.counters.bytesOut;
    await host.writeBlocks(200, randomBytes(512 * 64, 4));
    expect(bus.counters.queries - q).toBeLessThanOrEqual(64 + 6);
    // Bytes clocked stay close to the payload: tokens, CRCs and busy polling are small.
    expect(bus.counters.bytesOut - before).toBeLessThan(64 * 512 * 1.25);
    // A lone sector: command, data + response/busy, CMD13.
    q = bus.counters.queries;
    await host.writeBlocks(400, randomBytes(512, 5));
    expect(bus.counters.queries - q).toBeLessThanOrEqual(4);
    q = bus.counters.queries;
    await host.readBlocks(400, 1);
    expect(bus.counters.queries - q).toBe(1);
  });

  it('queues overlapping calls instead of interleaving them on the bus', async () => {
    fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
    const host = new SpiSdHost(new DirectSpiBus(fx.card));
    const a = randomBytes(512 * 4, 31);
    const b = randomBytes(512 * 2, 32);
    const [, , , ra, rb] = await Promise.all([
      host.init(),
      host.writeBlocks(10, a),
      host.writeBlocks(20, b),
      host.readBlocks(10, 4),
      host.readBlocks(20, 2),
    ]);
    expect(ra).toEqual(a);
    expect(rb).toEqual(b);
  });

  it('picks the card type from the size like real cards: SDSC to 2 GiB, SDHC to 32 GiB, SDXC above', async () => {
    for (const [size, type] of [
      [2 * 1024 * MiB, 'SDSC'],
      [2 * 1024 * MiB + 512 * 1024, 'SDHC'],
      [40 * 1024 * MiB, 'SDXC'],
    ] as const) {
      fx = makeCard(size, {}, 1);
      const info = await new SpiSdHost(new DirectSpiBus(fx.card)).init();
      expect(info.capacityType).toBe(type);
      expect(info.highCapacity).toBe(type !== 'SDSC');
      expect(info.capacityBytes).toBe(size);
      fx.cleanup();
      fx = undefined;
    }
  });

  it('re-reads a CID/CSD that arrives damaged during init, and fails typed when it stays damaged', async () => {
    fx = makeCard(4 * MiB);
    fx.card.faults.readCrcErrorCount = 1;
    const host = new SpiSdHost(new DirectSpiBus(fx.card));
    expect((await host.init()).cid.crcOk).toBe(true);
    fx.card.faults.readCrcErrorCount = 50;
    await expect(host.init()).rejects.toMatchObject({ code: 'sd-data-crc' });
    expect(host.info).toBeUndefined();
  });

  it('refuses out-of-range requests before touching the card', async () => {
    fx = makeCard(4 * MiB);
    const host = new SpiSdHost(new DirectSpiBus(fx.card));
    expect(await codeOf(host.readBlocks(0, 1))).toBe('sd-not-initialized');
    await host.init();
    const before = fx.card.stats.commands;
    expect(await codeOf(host.readBlocks(8191, 2))).toBe('sd-out-of-range');
    expect(fx.card.stats.commands).toBe(before);
  });
});

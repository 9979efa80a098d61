import { afterEach, describe, expect, it } from 'vitest';
import { DirectSdioBus, DirectSpiBus } from '../helpers/direct-bus.js';
import { SpiSdHost } from '../../src/sdcard/spi-sd-host.js';
import { SdioSdHost } from '../../src/sdcard/sdio-sd-host.js';
import type { SdHost } from '../../src/sdcard/sd-host.js';
import { DeviceError } from '../../src/errors.js';
import { makeCard, randomBytes, type CardFixture } from '../helpers/card-fixture.js';

const MiB = 1024 * 1024;
let fx: CardFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

async function failure(p: Promise<unknown>): Promise<DeviceError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DeviceError);
    return e as DeviceError;
  }
  throw new Error('expected a DeviceError');
}

type Kind = 'spi' | 'sdio';
function hostFor(kind: Kind, f: CardFixture): SdHost {
  return kind === 'spi' ? new SpiSdHost(new DirectSpiBus(f.card)) : new SdioSdHost(new DirectSdioBus(f.card));
}

for (const kind of ['spi', 'sdio'] as const) {
  describe(`faults over ${kind}`, () => {
    it('a card write-protected in its CSD is reported and never written', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDHC', writeProtect: true });
      const host = hostFor(kind, fx);
      const info = await host.init();
      expect(info.writeProtected).toBe(true);
      const before = fx.card.stats.commands;
      const e = await failure(host.writeBlocks(1, randomBytes(512)));
      expect(e.code).toBe('sd-write-protected');
      expect(e.hint).toMatch(/write-protected/);
      // Trying again cannot help: the retry logic reads this flag.
      expect(e.transient).toBe(false);
      expect(fx.card.stats.commands).toBe(before);
      expect(fx.card.stats.blocksWritten).toBe(0);
    });

    it('a card that turns write-protected after init refuses the write: typed error, data untouched', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDSC' });
      const host = hostFor(kind, fx);
      await host.init();
      fx.card.writeProtect = true;
      const old = fx.fileSectors(7, 1);
      const e = await failure(host.writeBlocks(7, randomBytes(512, 2)));
      expect(e.code).toBe('sd-write-protected');
      expect(fx.fileSectors(7, 1)).toEqual(old);
    });

    it('retries a block the card rejected for CRC once, and gives up after repeated rejection', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      await host.init();
      fx.card.faults.rejectWrites = { count: 1, kind: 'crc' };
      const d = randomBytes(512 * 3, 4);
      await host.writeBlocks(20, d);
      expect(fx.fileSectors(20, 3)).toEqual(d);
      fx.card.faults.rejectWrites = { count: 100, kind: 'crc' };
      const e = await failure(host.writeBlocks(30, d));
      expect(e.code).toBe('sd-data-crc');
      // A CRC error is what a retry may fix: the driver retried it, and says so to callers.
      expect(e.transient).toBe(true);
    });

    it('a write error in the data response is a typed rejection', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      await host.init();
      fx.card.faults.rejectWrites = { count: 1, kind: 'write-error' };
      const e = await failure(host.writeBlocks(40, randomBytes(512 * 2, 5)));
      expect(e.code).toBe('sd-write-rejected');
      expect(e.hint).toBeTruthy();
      expect(e.transient).toBe(false);
    });

    it('re-reads blocks that arrive with a bad CRC, and gives up when it keeps happening', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      await host.init();
      fx.card.faults.readCrcErrorCount = 1;
      expect(await host.readBlocks(0, 8)).toEqual(fx.fileSectors(0, 8));
      expect(fx.card.faults.readCrcErrorCount).toBe(0);
      fx.card.faults.readCrcErrorCount = 1000;
      const e = await failure(host.readBlocks(0, 2));
      expect(e.code).toBe('sd-data-crc');
      expect(e.transient).toBe(true);
    });

    it('a card that stays busy after a write times out with a bound', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      await host.init();
      fx.card.faults.stayBusy = true;
      const t = performance.now();
      expect((await failure(host.writeBlocks(3, randomBytes(512)))).code).toBe('sd-busy-timeout');
      expect(performance.now() - t).toBeLessThan(5000);
      // A power cycle clears it; the card works again after a fresh init.
      fx.card.faults.stayBusy = false;
      fx.card.powerCycle();
      await host.init();
      await host.writeBlocks(3, randomBytes(512, 9));
    });

    it('a card pulled out in the middle of a write is reported as gone', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      await host.init();
      fx.card.faults.removeAfterBlocks = 3;
      const e = await failure(host.writeBlocks(100, randomBytes(512 * 10, 6)));
      expect(e.code).toBe('sd-no-card');
      expect(fx.card.inserted).toBe(false);
      expect(e.hint).toMatch(/inserted/);
    });

    it('a card pulled out in the middle of a read is reported as gone', async () => {
      fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      await host.init();
      fx.card.faults.removeAfterBlocks = 2;
      expect((await failure(host.readBlocks(0, 10))).code).toBe('sd-no-card');
      fx.card.insert();
      await host.init();
      fx.card.faults.removeAfterBlocks = 1;
      expect((await failure(host.readBlocks(5, 1))).code).toBe('sd-no-card');
    });

    it('no card at all: "is a card inserted?"', async () => {
      fx = makeCard(8 * MiB);
      fx.card.remove();
      const e = await failure(hostFor(kind, fx).init());
      expect(e.code).toBe('sd-no-card');
      expect(e.hint).toMatch(/card inserted/);
    });

    it('a CSD that lies about capacity is believed; the counterfeit card wraps around', async () => {
      fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
      fx.card.faults.csdCapacityBytes = 16 * MiB;
      const host = hostFor(kind, fx);
      const info = await host.init();
      expect(info.sectorCount).toBe((16 * MiB) / 512);
      const d = randomBytes(512, 12);
      await host.writeBlocks(8192 + 5, d);
      expect(fx.fileSectors(5, 1)).toEqual(d);
    });

    it('a lying CSD over missing storage fails typed past the real end', async () => {
      fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
      fx.card.faults.csdCapacityBytes = 16 * MiB;
      fx.card.faults.pastRealEnd = 'error';
      const host = hostFor(kind, fx);
      await host.init();
      expect((await failure(host.writeBlocks(8192 + 5, randomBytes(512, 14)))).code).toBe('sd-write-rejected');
      expect((await failure(host.readBlocks(8190, 4))).code).toBe('sd-read-failed');
      expect(fx.fileSectors(5, 1)).not.toEqual(randomBytes(512, 14));
    });
  });
}

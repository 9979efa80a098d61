import { afterEach, describe, expect, it } from 'vitest';
import { DirectSdioBus, DirectSpiBus } from '../helpers/direct-bus.js';
import { SpiSdHost } from '../../src/sdcard/spi-sd-host.js';
import { SdioSdHost } from '../../src/sdcard/sdio-sd-host.js';
import { SdBlockDevice } from '../../src/sdcard/sd-block-device.js';
import { FwcardError } from '../../src/errors.js';
import { cardFacts } from '../../src/sdcard/card-facts.js';
import { makeCard, randomBytes, type CardFixture } from '../helpers/card-fixture.js';

const MiB = 1024 * 1024;
let fx: CardFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

describe('SdBlockDevice', () => {
  it('is a BlockDevice over SPI that uses multi-block commands for runs', async () => {
    fx = makeCard(16 * MiB, { capacityType: 'SDHC' });
    const bus = new DirectSpiBus(fx.card);
    const dev = await SdBlockDevice.open(new SpiSdHost(bus), { maxSectorsPerCall: 100 });
    expect(dev.sectorSize).toBe(512);
    expect(dev.sectorCount).toBe(32768);
    expect(dev.readOnly).toBe(false);
    expect(dev.name).toBe('SD card (spi)');
    const d = randomBytes(512 * 250, 21);
    const cmdsBefore = fx.card.stats.commands;
    await dev.write(1000, d);
    // 3 calls (100+100+50), each CMD25 + CMD13: far fewer commands than 250 single writes.
    expect(fx.card.stats.commands - cmdsBefore).toBeLessThan(20);
    expect(fx.fileSectors(1000, 250)).toEqual(d);
    expect(await dev.read(1000, 250)).toEqual(d);
    expect(dev.counters.bytesWritten).toBe(d.length);
    await dev.flush();
    await dev.close();
    await dev.close();
    await expect(dev.read(0, 1)).rejects.toBeInstanceOf(FwcardError);
  });

  it('is a BlockDevice over SDIO', async () => {
    fx = makeCard(16 * MiB, { capacityType: 'SDSC' });
    const dev = await SdBlockDevice.open(new SdioSdHost(new DirectSdioBus(fx.card)));
    expect(dev.name).toBe('SD card (sdio)');
    const d = randomBytes(512 * 9, 22);
    await dev.write(32767 - 9, d);
    expect(fx.fileSectors(32767 - 9, 9)).toEqual(d);
    expect(await dev.read(32767 - 9, 9)).toEqual(d);
  });

  it('checks ranges before any I/O and is read-only on a write-protected card', async () => {
    fx = makeCard(4 * MiB, { writeProtect: true });
    const dev = await SdBlockDevice.open(new SpiSdHost(new DirectSpiBus(fx.card)));
    expect(dev.readOnly).toBe(true);
    await expect(dev.read(8190, 4)).rejects.toMatchObject({ code: 'out-of-range' });
    await expect(dev.write(0, randomBytes(512))).rejects.toMatchObject({ code: 'sd-write-protected' });
    expect(fx.card.stats.blocksWritten).toBe(0);
  });

  it('refuses a host that was never initialised', () => {
    fx = makeCard(4 * MiB);
    expect(() => new SdBlockDevice(new SpiSdHost(new DirectSpiBus(fx!.card)))).toThrow(/initialised/);
  });
});

describe('cardFacts', () => {
  it('summarises an initialised card for the user', async () => {
    fx = makeCard(8 * MiB, { capacityType: 'SDHC', cid: { manufacturerId: 0x03, productName: 'SE08G', serialNumber: 0xab12, manufactureYear: 2020, manufactureMonth: 4 } });
    const host = new SpiSdHost(new DirectSpiBus(fx.card));
    const facts = cardFacts(await host.init());
    expect(facts).toEqual({
      bus: 'spi',
      type: 'SDHC',
      capacityBytes: 8 * MiB,
      sectorCount: 16384,
      writeProtected: false,
      specVersion: 2,
      manufacturerId: 3,
      manufacturer: 'SanDisk',
      oemId: 'SD',
      product: 'SE08G',
      revision: '8.0',
      serial: '0000AB12',
      manufactured: '2020-04',
      crcEnabled: true,
    });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { DirectSdioBus } from '../helpers/direct-bus.js';
import { SdioSdHost } from '../../src/sdcard/sdio-sd-host.js';
import { SdioError, SdioWait } from '../../src/sdcard/sdio-codes.js';
import { decodeCid } from '../../src/sdcard/cid.js';
import { makeCard, randomBytes, type CardFixture } from '../helpers/card-fixture.js';

const MiB = 1024 * 1024;
let fx: CardFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

describe('SDIO host <-> emulated card', () => {
  for (const kind of ['SDSC', 'SDHC'] as const) {
    it(`initialises an ${kind} card, reads CID/CSD, reads and writes sectors`, async () => {
      fx = makeCard(32 * MiB, { capacityType: kind, cid: { manufacturerId: 0x1b, productName: 'EVO32', manufactureYear: 2023, manufactureMonth: 2 } });
      const bus = new DirectSdioBus(fx.card);
      const host = new SdioSdHost(bus);
      const info = await host.init();
      expect(fx.card.mode).toBe('sd');
      expect(info.bus).toBe('sdio');
      expect(info.capacityType).toBe(kind);
      expect(info.highCapacity).toBe(kind === 'SDHC');
      expect(info.sectorCount).toBe((32 * MiB) / 512);
      expect(info.rca).toBe(0x59b4);
      expect(info.cid.manufacturerName).toBe('Samsung');
      expect(info.cid.productName).toBe('EVO32');
      expect(info.cid.manufactureYear).toBe(2023);

      expect(await host.readBlocks(2, 30)).toEqual(fx.fileSectors(2, 30));
      const d = randomBytes(512 * 20, 11);
      await host.writeBlocks(65535 - 20, d);
      expect(fx.fileSectors(65535 - 20, 20)).toEqual(d);
      expect(fx.fileSectors(65535, 1)).toEqual(new Uint8Array(512));
      expect(await host.readBlocks(65535 - 20, 20)).toEqual(d);
      // Klipper's STM32 driver runs a 1-bit bus: the host must not switch the card to 4 bits.
      expect(fx.card.busWidth).toBe(1);
    });
  }

  it('initialises a version 1.x SDSC card (CMD8 unanswered) and writes to it', async () => {
    fx = makeCard(8 * MiB, { capacityType: 'SDSC', specVersion: 1 });
    const host = new SdioSdHost(new DirectSdioBus(fx.card));
    const info = await host.init();
    expect(info.specVersion).toBe(1);
    expect(info.highCapacity).toBe(false);
    const d = randomBytes(512 * 2, 13);
    await host.writeBlocks(9, d);
    expect(fx.fileSectors(9, 2)).toEqual(d);
  });

  it('queues a long read in batches: about two messages per block, few waits', async () => {
    fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
    const bus = new DirectSdioBus(fx.card);
    const host = new SdioSdHost(bus, { pipelineDepth: 16 });
    await host.init();
    const m = bus.counters.messages;
    expect(await host.readBlocks(0, 64)).toEqual(fx.fileSectors(0, 64));
    expect(bus.counters.messages - m).toBe(128);
  });

  it('reports responses the way the STM32 controller does', async () => {
    fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
    const c = fx.card;
    expect(c.sdioSendCommand(0, 0, SdioWait.NO_RESPONSE).error).toBe(SdioError.OK);
    const r8 = c.sdioSendCommand(8, 0x1aa, SdioWait.SHORT);
    expect(r8.error).toBe(SdioError.OK);
    expect(Array.from(r8.response)).toEqual([0, 0, 1, 0xaa]);
    // R3 has no CRC: the controller flags CRC_FAIL, the OCR is still there.
    c.sdioSendCommand(55, 0, SdioWait.SHORT);
    const r41 = c.sdioSendCommand(41, 0x40ff8000, SdioWait.SHORT);
    expect(r41.error).toBe(SdioError.CRC_FAIL);
    expect(r41.response[1]).toBe(0xff);
    // Unknown in this state: no response at all.
    expect(c.sdioSendCommand(17, 0, SdioWait.SHORT).error).toBe(SdioError.CMD_RESPONSE_TIMEOUT);
    for (let i = 0; i < 5; i++) {
      c.sdioSendCommand(55, 0, SdioWait.SHORT);
      c.sdioSendCommand(41, 0x40ff8000, SdioWait.SHORT);
    }
    const cid = c.sdioSendCommand(2, 0, SdioWait.LONG);
    expect(cid.error).toBe(SdioError.OK);
    expect(cid.response.length).toBe(16);
    expect(cid.response[15]! & 1).toBe(0);
    expect(decodeCid(cid.response).crcOk).toBe(true);
  });
});

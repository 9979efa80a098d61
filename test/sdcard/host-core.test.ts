/**
 * What the SPI and SDIO drivers share (src/sdcard/host-core.ts, card-info.ts, loss-account.ts),
 * checked once for the core and, where it meets the card, for both buses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DirectSdioBus, DirectSpiBus } from '../helpers/direct-bus.js';
import { cardInfo } from '../../src/sdcard/card-info.js';
import { buildCid } from '../../src/sdcard/cid.js';
import { crc7 } from '../../src/sdcard/crc7.js';
import { buildCsd } from '../../src/sdcard/csd.js';
import { LossAccount } from '../../src/sdcard/loss-account.js';
import { SdioResponseLost } from '../../src/sdcard/lost-response.js';
import type { SdHost } from '../../src/sdcard/sd-host.js';
import { SdioSdHost } from '../../src/sdcard/sdio-sd-host.js';
import { SpiSdHost } from '../../src/sdcard/spi-sd-host.js';
import { setBits } from '../../src/sdcard/register-bits.js';
import { makeCard, randomBytes, type CardFixture } from '../helpers/card-fixture.js';

const MiB = 1024 * 1024;
let fx: CardFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

function hostFor(kind: 'spi' | 'sdio', f: CardFixture): SdHost {
  return kind === 'spi' ? new SpiSdHost(new DirectSpiBus(f.card)) : new SdioSdHost(new DirectSdioBus(f.card));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'resolved';
}

for (const kind of ['spi', 'sdio'] as const) {
  describe(`the host core over ${kind}`, () => {
    it('checks ranges and whole blocks before sending anything', async () => {
      fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      expect(await codeOf(host.readBlocks(0, 1))).toBe('sd-not-initialized');
      expect(await codeOf(host.writeBlocks(0, randomBytes(512)))).toBe('sd-not-initialized');
      const info = await host.init();
      expect(info.bus).toBe(kind);
      expect(info.rca !== undefined).toBe(kind === 'sdio');
      const before = fx.card.stats.commands;
      expect(await codeOf(host.readBlocks(info.sectorCount - 1, 2))).toBe('sd-out-of-range');
      expect(await codeOf(host.readBlocks(-1, 1))).toBe('sd-out-of-range');
      expect(await codeOf(host.readBlocks(1.5, 1))).toBe('sd-out-of-range');
      expect(await codeOf(host.writeBlocks(info.sectorCount, randomBytes(512)))).toBe('sd-out-of-range');
      expect(await codeOf(host.writeBlocks(0, randomBytes(100)))).toBe('sd-out-of-range');
      expect(fx.card.stats.commands).toBe(before);
    });

    it('forgets the card on deinit: reads need a fresh init', async () => {
      fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      await host.init();
      await host.deinit();
      expect(host.info).toBeUndefined();
      expect(await codeOf(host.readBlocks(0, 1))).toBe('sd-not-initialized');
      await host.init();
      expect(await host.readBlocks(0, 2)).toEqual(fx.fileSectors(0, 2));
    });

    it('runs one operation at a time: calls made without awaiting queue up in order', async () => {
      fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
      const host = hostFor(kind, fx);
      const d = randomBytes(512 * 4, 9);
      const init = host.init();
      const write = host.writeBlocks(100, d);
      const read = host.readBlocks(100, 4);
      await init;
      await write;
      expect(await read).toEqual(d);
    });
  });
}

describe('cardInfo', () => {
  const card = { bus: 'spi' as const, specVersion: 2 as const, highCapacity: true, crcEnabled: true };

  it('decodes the registers into the facts', () => {
    const info = cardInfo({ ...card, cidRaw: buildCid({ productName: 'FWCRD' }), csdRaw: buildCsd({ capacityType: 'SDHC', capacityBytes: 64 * MiB }) });
    expect(info).toMatchObject({ bus: 'spi', capacityType: 'SDHC', sectorCount: (64 * MiB) / 512, writeProtected: false });
    expect(info.cid.productName).toBe('FWCRD');
    expect('rca' in info).toBe(false);
  });

  it('refuses registers with a bad CRC7, and SDUC cards', () => {
    const cid = buildCid();
    const csd = buildCsd({ capacityType: 'SDHC', capacityBytes: 64 * MiB });
    const badCid = cid.slice();
    badCid[3]! ^= 0x10;
    const badCsd = csd.slice();
    badCsd[15]! ^= 0x02;
    expect(() => cardInfo({ ...card, cidRaw: badCid, csdRaw: csd })).toThrow(expect.objectContaining({ code: 'sd-register-crc' }));
    expect(() => cardInfo({ ...card, cidRaw: cid, csdRaw: badCsd })).toThrow(expect.objectContaining({ code: 'sd-register-crc' }));
    // CSD_STRUCTURE 2 (version 3.0) is SD Ultra Capacity.
    const sduc = csd.slice();
    setBits(sduc, 127, 126, 2);
    sduc[15] = (crc7(sduc, 0, 15) << 1) | 1;
    expect(() => cardInfo({ ...card, cidRaw: cid, csdRaw: sduc })).toThrow(expect.objectContaining({ code: 'sd-unsupported-card' }));
  });
});

describe('LossAccount', () => {
  function account(lines: string[]): LossAccount {
    return new LossAccount({ perProgress: 2, describe: (e) => (e instanceof SdioResponseLost ? `lost ${e.command}` : undefined), trace: (m) => lines.push(m) });
  }

  it('traces each loss, and throws link-lossy once more than perProgress come without progress', () => {
    const lines: string[] = [];
    const a = account(lines);
    a.start(0);
    a.lost(new SdioResponseLost('CMD13'), 'here');
    a.lost(new SdioResponseLost('CMD13'), 'here');
    a.progress();
    a.lost(new SdioResponseLost('CMD13'), 'there');
    a.lost(new SdioResponseLost('CMD13'), 'there');
    expect(() => a.lost(new SdioResponseLost('CMD13'), 'there')).toThrow(expect.objectContaining({ code: 'link-lossy' }));
    expect(lines[0]).toBe('here: lost CMD13; recovering');
  });

  it('rethrows what is not a loss, untouched', () => {
    const a = account([]);
    const other = new Error('card trouble');
    expect(() => a.lost(other, 'here')).toThrow(other);
  });

  it('retries an exchange until its answer arrives, getting back in step in between', async () => {
    const a = account([]);
    a.start(0);
    let calls = 0;
    let resyncs = 0;
    const got = await a.retry(
      'x',
      async () => {
        if (++calls < 3) throw new SdioResponseLost('CMD8');
        return 'ok';
      },
      async () => void resyncs++,
    );
    expect([got, calls, resyncs]).toEqual(['ok', 3, 2]);
  });
});

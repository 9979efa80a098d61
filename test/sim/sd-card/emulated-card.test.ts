/** The emulated card at the SPI byte level, driven by hand like a logic-analyser trace. */
import { afterEach, describe, expect, it } from 'vitest';
import { commandFrame } from '../../../src/sdcard/sd-protocol.js';
import { crc16 } from '../../../src/sdcard/crc16.js';
import { decodeCsd } from '../../../src/sdcard/csd.js';
import { DirectSdioBus, DirectSpiBus } from '../../helpers/direct-bus.js';
import { SpiSdHost } from '../../../src/sdcard/spi-sd-host.js';
import { SdioSdHost } from '../../../src/sdcard/sdio-sd-host.js';
import { DeviceError } from '../../../src/errors.js';
import type { EmulatedSdCard } from '../../../src/sim/sd-card/emulated-card.js';
import { makeCard, randomBytes, type CardFixture } from '../../helpers/card-fixture.js';

const MiB = 1024 * 1024;
let fx: CardFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

function xfer(card: EmulatedSdCard, bytes: Uint8Array | number[]): Uint8Array {
  card.spiSelect(true);
  const r = card.spiTransfer(Uint8Array.from(bytes));
  card.spiSelect(false);
  return r;
}
const ff = (n: number) => new Array<number>(n).fill(0xff);

/** Send a command and return the bytes clocked in after it. */
function cmd(card: EmulatedSdCard, index: number, arg: number, after = 8, breakCrc = false): Uint8Array {
  const f = commandFrame(index, arg);
  if (breakCrc) f[5] = f[5]! ^ 0x10;
  return xfer(card, [...f, ...ff(after)]).subarray(6);
}
const r1 = (resp: Uint8Array) => resp.find((b) => b !== 0xff) ?? 0xff;

function initSpi(card: EmulatedSdCard, hcs = true): void {
  expect(r1(cmd(card, 0, 0))).toBe(0x01);
  for (let i = 0; i < 10; i++) {
    cmd(card, 55, 0);
    if (r1(cmd(card, 41, hcs ? 0x4000_0000 : 0)) === 0) return;
  }
  throw new Error('card did not initialise');
}

describe('emulated card, SPI byte level', () => {
  it('ignores commands until CMD0 with a valid CRC, then answers R1 idle', () => {
    fx = makeCard(4 * MiB);
    const c = fx.card;
    expect(r1(cmd(c, 8, 0x1aa))).toBe(0xff);
    expect(r1(cmd(c, 0, 0, 8, true))).toBe(0xff);
    expect(r1(cmd(c, 0, 0))).toBe(0x01);
    expect(c.mode).toBe('spi');
  });

  it('answers CMD8 with R7 echoing the pattern, and always checks its CRC', () => {
    fx = makeCard(4 * MiB);
    const c = fx.card;
    cmd(c, 0, 0);
    const r = cmd(c, 8, 0x1aa);
    const i = r.findIndex((b) => b !== 0xff);
    expect(Array.from(r.subarray(i, i + 5))).toEqual([0x01, 0x00, 0x00, 0x01, 0xaa]);
    expect(r1(cmd(c, 8, 0x1aa, 8, true))).toBe(0x01 | 0x08);
  });

  it('checks command CRCs only after CMD59 turns CRC on', () => {
    fx = makeCard(4 * MiB);
    const c = fx.card;
    cmd(c, 0, 0);
    expect(r1(cmd(c, 55, 0, 8, true))).toBe(0x01);
    expect(r1(cmd(c, 59, 1))).toBe(0x01);
    expect(r1(cmd(c, 55, 0, 8, true))).toBe(0x09);
  });

  it('rejects data with a bad CRC16 when CRC is on and takes it when CRC is off', () => {
    fx = makeCard(4 * MiB, { capacityType: 'SDSC' });
    const c = fx.card;
    initSpi(c);
    const data = randomBytes(512, 1);
    const bad = crc16(data) ^ 1;
    const write = (lba: number) => {
      expect(r1(cmd(c, 24, lba * 512))).toBe(0);
      const back = xfer(c, [0xff, 0xfe, ...data, bad >> 8, bad & 0xff, ...ff(4)]);
      return back.subarray(515).find((b) => b !== 0xff)! & 0x1f;
    };
    expect(write(3)).toBe(0x05); // CRC off: accepted
    c.elapse(10_000);
    expect(r1(cmd(c, 59, 1))).toBe(0);
    expect(write(4)).toBe(0x0b); // CRC on: CRC error
    expect(fx.fileSectors(3, 1)).toEqual(data);
    expect(fx.fileSectors(4, 1)).not.toEqual(data);
  });

  it('SDSC uses byte addresses and refuses misaligned ones; SDHC uses block numbers', () => {
    fx = makeCard(4 * MiB, { capacityType: 'SDSC' });
    initSpi(fx.card);
    expect(r1(cmd(fx.card, 17, 100))).toBe(0x20); // address error
    expect(r1(cmd(fx.card, 17, 8192 * 512))).toBe(0x40); // past the end
    const r = cmd(fx.card, 17, 2 * 512, 8 + 1 + 514);
    const t = r.indexOf(0xfe);
    expect(r.subarray(t + 1, t + 513)).toEqual(fx.fileSectors(2, 1));
    fx.cleanup();
    fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
    initSpi(fx.card);
    const h = cmd(fx.card, 17, 2, 8 + 1 + 514);
    const th = h.indexOf(0xfe);
    expect(h.subarray(th + 1, th + 513)).toEqual(fx.fileSectors(2, 1));
  });

  it('an SDHC card never leaves idle for a host without HCS', () => {
    fx = makeCard(4 * MiB, { capacityType: 'SDHC' });
    expect(() => initSpi(fx!.card, false)).toThrow(/did not initialise/);
  });

  it('holds MISO low while programming; time passing (elapse) ends the busy period', () => {
    fx = makeCard(4 * MiB, { capacityType: 'SDHC', timing: { writeBusyUs: 1_000_000 } });
    const c = fx.card;
    initSpi(c);
    const data = randomBytes(512, 2);
    const crc = crc16(data);
    cmd(c, 24, 9);
    const back = xfer(c, [0xff, 0xfe, ...data, crc >> 8, crc & 0xff, ...ff(20)]);
    const tail = back.subarray(515);
    const resp = tail.findIndex((b) => b !== 0xff);
    expect(tail[resp]! & 0x1f).toBe(0x05);
    expect(Array.from(tail.subarray(resp + 1))).toEqual(new Array(tail.length - resp - 1).fill(0));
    const busyBefore = c.stats.busyMicros;
    expect(busyBefore).toBeGreaterThanOrEqual(1_000_000);
    c.elapse(1_000_000);
    expect(Array.from(xfer(c, ff(4)))).toEqual(ff(4));
  });

  it('CSD and CID come as 16-byte data blocks with valid CRCs', () => {
    fx = makeCard(4 * MiB, { capacityType: 'SDSC' });
    initSpi(fx.card);
    const r = cmd(fx.card, 9, 0, 8 + 1 + 18);
    const t = r.indexOf(0xfe, 1);
    const reg = r.subarray(t + 1, t + 17);
    expect(((r[t + 17]! << 8) | r[t + 18]!) >>> 0).toBe(crc16(reg));
    const csd = decodeCsd(reg);
    expect(csd.crcOk).toBe(true);
    expect(csd.capacityBytes).toBe(4 * MiB);
  });
});

describe('interface mode', () => {
  it('stays in SPI mode until power-cycled: SDIO fails, then works after powerCycle()', async () => {
    fx = makeCard(8 * MiB, { capacityType: 'SDHC' });
    await new SpiSdHost(new DirectSpiBus(fx.card)).init();
    expect(fx.card.mode).toBe('spi');
    const sdio = new SdioSdHost(new DirectSdioBus(fx.card));
    const e = await sdio.init().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeviceError);
    expect((e as DeviceError).code).toBe('sd-no-card');
    expect((e as DeviceError).hint).toMatch(/power-cycle/);
    expect(fx.card.mode).toBe('spi');
    fx.card.powerCycle();
    const info = await sdio.init();
    expect(fx.card.mode).toBe('sd');
    expect(await sdio.readBlocks(0, 2)).toEqual(fx.fileSectors(0, 2));
    expect(info.highCapacity).toBe(true);
  });

  it('a card in SD mode ignores SPI chatter other than CMD0, which switches it (spec 7.2.1)', async () => {
    fx = makeCard(8 * MiB);
    await new SdioSdHost(new DirectSdioBus(fx.card)).init();
    expect(r1(cmd(fx.card, 55, 0))).toBe(0xff);
    await new SpiSdHost(new DirectSpiBus(fx.card)).init();
    expect(fx.card.mode).toBe('spi');
  });
});

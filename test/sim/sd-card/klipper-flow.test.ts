/**
 * The emulated card must satisfy Klipper's own host (scripts/spi_flash/spi_flash.py). These
 * tests replay its SD sequences step by step — 8-byte response reads stripped of 0xFF, one
 * byte token polls, 32-byte chunks — against the card, without our driver in between.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SdioError, SdioWait, type SdioWaitType } from '../../../src/sdcard/sdio-codes.js';
import { crc7 } from '../../../src/sdcard/crc7.js';
import { crc16 } from '../../../src/sdcard/crc16.js';
import { commandFrame } from '../../../src/sdcard/sd-protocol.js';
import type { EmulatedSdCard } from '../../../src/sim/sd-card/emulated-card.js';
import { makeCard, randomBytes, type CardFixture } from '../../helpers/card-fixture.js';

const MiB = 1024 * 1024;
let fx: CardFixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

/** Python's bytes.strip(b'\xFF'). */
function strip(b: Uint8Array): Uint8Array {
  let s = 0;
  let e = b.length;
  while (s < e && b[s] === 0xff) s++;
  while (e > s && b[e - 1] === 0xff) e--;
  return b.subarray(s, e);
}

/** One Klipper message: CS low, the bytes, CS high. */
function msg(card: EmulatedSdCard, data: number[]): Uint8Array {
  card.spiSelect(true);
  const r = card.spiTransfer(Uint8Array.from(data));
  card.spiSelect(false);
  return r;
}

class KlipperSpiFlow {
  constructor(private readonly card: EmulatedSdCard) {}
  send(index: number, arg: number): void {
    msg(this.card, Array.from(commandFrame(index, arg)));
  }
  withResponse(index: number, arg: number): Uint8Array {
    this.send(index, arg);
    return msg(this.card, new Array(8).fill(0xff));
  }
  check(expected: number, index: number, arg: number, app = false, tries = 15): boolean {
    while (tries-- > 0) {
      if (app) this.withResponse(55, 0);
      const r = strip(this.withResponse(index, arg));
      if (r.length && r[0] === expected) return true;
    }
    return false;
  }
  findToken(token: number, tries = 10): boolean {
    while (tries--) if (msg(this.card, [0xff])[0] === token) return true;
    return false;
  }
  findResponse(tries = 10): number {
    while (tries--) {
      const b = msg(this.card, [0xff])[0]!;
      if (b !== 0xff) return b;
    }
    return 0xff;
  }
  blockRead(size = 512): Uint8Array | undefined {
    if (this.findResponse() !== 0 || !this.findToken(0xfe)) return undefined;
    const buf: number[] = [];
    while (buf.length < size) buf.push(...msg(this.card, new Array(Math.min(32, size - buf.length)).fill(0xff)));
    const crc = msg(this.card, [0xff, 0xff]);
    this.findToken(0xff);
    const data = Uint8Array.from(buf);
    return crc16(data) === ((crc[0]! << 8) | crc[1]!) ? data : undefined;
  }
}

describe("Klipper's spi_flash.py against the emulated card", () => {
  for (const kind of ['SDSC', 'SDHC'] as const) {
    it(`SPI init, CID/CSD, read_sector and write_sector (${kind})`, () => {
      fx = makeCard(16 * MiB, { capacityType: kind });
      const k = new KlipperSpiFlow(fx.card);
      expect(k.check(1, 0, 0)).toBe(true);
      const r7 = strip(k.withResponse(8, 0x1aa));
      expect(r7.length).toBe(5);
      expect(r7[0]).toBe(1);
      expect([r7[3], r7[4]]).toEqual([1, 0xaa]);
      expect(k.check(1, 59, 1)).toBe(true);
      expect(k.check(0, 41, 1 << 30, true)).toBe(true);
      const ocr = strip(k.withResponse(58, 0));
      expect(ocr.length).toBe(5);
      expect(ocr[0]).toBe(0);
      expect((ocr[1]! & 0x40) !== 0).toBe(kind === 'SDHC');
      expect(k.check(0, 16, 512, false, 5)).toBe(true);

      k.send(10, 0);
      const cid = k.blockRead(16)!;
      expect(cid[15]).toBe((crc7(cid.subarray(0, 15)) << 1) | 1);
      k.send(9, 0);
      const csd = k.blockRead(16)!;
      expect((csd[0]! >> 6) & 3).toBe(kind === 'SDHC' ? 1 : 0);

      const addr = (sector: number) => (kind === 'SDHC' ? sector : sector * 512);
      k.send(17, addr(3));
      expect(k.blockRead()).toEqual(fx.fileSectors(3, 1));

      const data = randomBytes(512, 77);
      expect(k.check(0, 24, addr(50), false, 2)).toBe(true);
      const crc = crc16(data);
      const out = [0xfe, ...data, crc >> 8, crc & 0xff];
      for (let i = 0; i < out.length; i += 32) msg(fx.card, out.slice(i, i + 32));
      expect(k.findResponse() & 0x1f).toBe(5);
      expect(k.findToken(0xff, 128)).toBe(true);
      expect(strip(k.withResponse(13, 0))).toEqual(Uint8Array.of(0, 0));
      expect(fx.fileSectors(50, 1)).toEqual(data);
      // deinit
      expect(k.check(1, 0, 0)).toBe(true);
      expect(k.check(1, 59, 0)).toBe(true);
    });
  }

  it('SDIO init_sd, read_sector and write_sector', () => {
    fx = makeCard(16 * MiB, { capacityType: 'SDHC' });
    const c = fx.card;
    const cmd = (i: number, arg: number, wait: SdioWaitType) => c.sdioSendCommand(i, arg, wait);
    expect(cmd(0, 0, SdioWait.NO_RESPONSE).error).toBe(0);
    const r8 = strip(cmd(8, 0x1aa, SdioWait.SHORT).response);
    expect(r8.length).toBe(4);
    expect([r8[2], r8[3]]).toEqual([1, 0xaa]);
    let ocr: Uint8Array | undefined;
    for (let t = 0; t < 15 && !ocr; t++) {
      cmd(55, 0, SdioWait.SHORT);
      const p = cmd(41, 0xc1100000, SdioWait.SHORT);
      const resp = p.error !== 0 && p.error !== SdioError.CRC_FAIL ? new Uint8Array(0) : p.response;
      if (resp.length && resp[0]! >> 7 === 1) ocr = resp;
    }
    expect(ocr![0]! & 0x40).toBe(0x40);
    const cid = cmd(2, 0, SdioWait.LONG).response;
    expect(cid[15]).toBe(crc7(cid.subarray(0, 15)) << 1);
    const r3 = cmd(3, 0, SdioWait.SHORT).response;
    expect(r3[2]! & 0xe0).toBe(0);
    const rca = (r3[0]! << 8) | r3[1]!;
    const csd = cmd(9, rca << 16, SdioWait.LONG).response;
    expect(csd[15]).toBe(crc7(csd.subarray(0, 15)) << 1);
    const ocrErrors = (r: Uint8Array) => ((r[0]! & 0xfd) | r[1]! | (r[2]! & 0xe0) | (r[3]! & 0x08)) === 0;
    expect(ocrErrors(cmd(7, rca << 16, SdioWait.SHORT).response)).toBe(true);
    c.sdioSetSpeed(1_000_000);
    expect(ocrErrors(cmd(16, 512, SdioWait.SHORT).response)).toBe(true);

    const rd = c.sdioReadData(17, 4, 512);
    expect(rd.error).toBe(0);
    expect(rd.data).toEqual(fx.fileSectors(4, 1));
    const data = randomBytes(512, 78);
    expect(c.sdioWriteData(24, 60, data, 512).error).toBe(0);
    c.elapse(5_000); // Klipper's host takes milliseconds between messages
    const st = cmd(13, rca << 16, SdioWait.SHORT).response;
    expect(st.length).toBe(4);
    expect((st[3]! >> 1) & 0x0f).toBe(0);
    expect(fx.fileSectors(60, 1)).toEqual(data);
    // The next write is accepted: the card has left the programming state.
    expect(c.sdioWriteData(24, 61, data, 512).error).toBe(0);
  });
});

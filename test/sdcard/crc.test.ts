import { describe, expect, it } from 'vitest';
import { crc7, crc7Byte } from '../../src/sdcard/crc7.js';
import { crc16 } from '../../src/sdcard/crc16.js';
import { commandFrame } from '../../src/sdcard/sd-protocol.js';

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('crc7', () => {
  it('matches the command CRCs every SD driver hard-codes', () => {
    expect(crc7Byte(bytes(0x40, 0, 0, 0, 0))).toBe(0x95); // CMD0
    expect(crc7Byte(bytes(0x48, 0, 0, 0x01, 0xaa))).toBe(0x87); // CMD8(0x1AA)
    expect(crc7Byte(bytes(0x77, 0, 0, 0, 0))).toBe(0x65); // CMD55
    expect(crc7Byte(bytes(0x69, 0x40, 0, 0, 0))).toBe(0x77); // ACMD41(HCS)
    expect(crc7Byte(bytes(0x7a, 0, 0, 0, 0))).toBe(0xfd); // CMD58
    expect(crc7Byte(bytes(0x51, 0, 0, 0, 0))).toBe(0x55); // CMD17(0)
  });
  it('is the spec example for a response (CMD17 R1 0x00000900 -> 0x2A)', () => {
    // SD spec 4.5 examples: CMD0 = 0x4A, CMD17 = 0x2A, response of CMD17 = 0x33 (7-bit values).
    expect(crc7(bytes(0x40, 0, 0, 0, 0))).toBe(0x4a);
    expect(crc7(bytes(0x51, 0, 0, 0, 0))).toBe(0x2a);
    expect(crc7(bytes(0x11, 0, 0, 0x09, 0x00))).toBe(0x33);
  });
  it('builds whole command frames', () => {
    expect(Array.from(commandFrame(8, 0x1aa))).toEqual([0x48, 0, 0, 1, 0xaa, 0x87]);
    expect(Array.from(commandFrame(0, 0))).toEqual([0x40, 0, 0, 0, 0, 0x95]);
  });
});

describe('crc16', () => {
  it('is CRC-16/XMODEM: check value of "123456789" is 0x31C3', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x31c3);
  });
  it('gives the spec example for a 512-byte block of 0xFF: 0x7FA1', () => {
    expect(crc16(new Uint8Array(512).fill(0xff))).toBe(0x7fa1);
  });
  it('honours start/end', () => {
    const d = new TextEncoder().encode('xx123456789yy');
    expect(crc16(d, 2, 11)).toBe(0x31c3);
  });
});

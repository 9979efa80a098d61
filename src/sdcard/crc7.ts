/**
 * CRC7 of SD commands and of the CID/CSD registers: G(x) = x^7 + x^3 + 1, initial value 0
 * (SD Physical Layer spec, "CRC7").
 */

const TABLE = buildTable();

function buildTable(): Uint8Array {
  // Table of the CRC kept left-aligned in a byte (poly 0x09 << 1), so each step is one lookup.
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x12) & 0xff : (c << 1) & 0xff;
    t[i] = c;
  }
  return t;
}

/** The 7-bit CRC of `data` (0..0x7F). */
export function crc7(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0;
  for (let i = start; i < end; i++) c = TABLE[c ^ data[i]!]!;
  return c >> 1;
}

/** The CRC as it ends a command frame or register: CRC7 in bits 7..1, end bit 1. */
export function crc7Byte(data: Uint8Array, start = 0, end = data.length): number {
  return (crc7(data, start, end) << 1) | 1;
}

/**
 * CRC16 of SD data blocks: CRC-16/CCITT with G(x) = x^16 + x^12 + x^5 + 1 (0x1021), initial
 * value 0, sent most significant byte first after the data (SD Physical Layer spec, "CRC16").
 */

const TABLE = buildTable();

function buildTable(): Uint16Array {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
}

export function crc16(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ TABLE[((c >> 8) ^ data[i]!) & 0xff]!;
  return c;
}

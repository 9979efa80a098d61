/**
 * CRC16-CCITT as Klipper computes it over a message block (header + content, not the
 * trailer): initial value 0xffff, reflected byte-wise update, result sent high byte first.
 */
export function crc16Ccitt(data: ArrayLike<number>, start = 0, end = data.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    let d = (data[i]! ^ (crc & 0xff)) & 0xff;
    d = (d ^ (d << 4)) & 0xff;
    crc = (((d << 8) | (crc >>> 8)) ^ (d >>> 4) ^ (d << 3)) & 0xffff;
  }
  return crc;
}

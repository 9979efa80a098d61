/**
 * Klipper's variable length quantity: a signed 32-bit integer in 1..5 bytes, 7 bits per
 * byte, most significant group first, bit 7 set on every byte but the last. The first byte's
 * bits 5-6 both set mean "negative" (sign extension), which is why -32..95 fits in one byte.
 * Encoding follows the firmware (src/command.c encode_int): the range check is done on the
 * value as int32, so 0xffffffff encodes as one byte, exactly like -1.
 */
export function encodeVlq(out: number[], value: number): void {
  const sv = value | 0; // int32 view of the value (accepts uint32 or int32 input)
  const u = sv >>> 0;
  if (sv >= 3 << 26 || sv < -(1 << 26)) out.push((u >>> 28) | 0x80);
  if (sv >= 3 << 19 || sv < -(1 << 19)) out.push(((u >>> 21) & 0x7f) | 0x80);
  if (sv >= 3 << 12 || sv < -(1 << 12)) out.push(((u >>> 14) & 0x7f) | 0x80);
  if (sv >= 3 << 5 || sv < -(1 << 5)) out.push(((u >>> 7) & 0x7f) | 0x80);
  out.push(u & 0x7f);
}

export interface Decoded<T> {
  value: T;
  /** Position just after the decoded bytes. */
  pos: number;
}

/** Thrown when a VLQ or string runs past the end of its buffer. */
export class TruncatedError extends Error {}

/** Decode one VLQ at `pos`; `signed` picks the int32 or uint32 view of the result. */
export function decodeVlq(buf: ArrayLike<number>, pos: number, signed = false, end = buf.length): Decoded<number> {
  if (pos >= end) throw new TruncatedError('VLQ past end of message');
  let c = buf[pos++]!;
  let v = c & 0x7f;
  if ((c & 0x60) === 0x60) v |= -0x20;
  let n = 1;
  while (c & 0x80) {
    if (pos >= end || ++n > 5) throw new TruncatedError('VLQ past end of message');
    c = buf[pos++]!;
    v = (v << 7) | (c & 0x7f);
  }
  return { value: signed ? v | 0 : v >>> 0, pos };
}

/** Number of bytes `encodeVlq` uses for `value`. */
export function vlqLength(value: number): number {
  const out: number[] = [];
  encodeVlq(out, value);
  return out.length;
}

/**
 * Bit fields of the 128-bit CID and CSD registers. The SD spec numbers bits 127..0 with bit
 * 127 the most significant bit of the first byte sent, so `[hi:lo]` below is the spec's own
 * notation and the field tables in `csd.ts` / `cid.ts` can be checked against it line by line.
 */

/** Read bits `hi..lo` (inclusive, hi ≥ lo, at most 32 wide) of a 16-byte register. */
export function getBits(reg: Uint8Array, hi: number, lo: number): number {
  let v = 0;
  for (let bit = hi; bit >= lo; bit--) {
    const byte = reg[15 - (bit >> 3)]!;
    v = v * 2 + ((byte >> (bit & 7)) & 1);
  }
  return v;
}

/** Write `value` into bits `hi..lo` of a 16-byte register. */
export function setBits(reg: Uint8Array, hi: number, lo: number, value: number): void {
  let v = value;
  for (let bit = lo; bit <= hi; bit++) {
    const idx = 15 - (bit >> 3);
    const mask = 1 << (bit & 7);
    if (v % 2) reg[idx] = reg[idx]! | mask;
    else reg[idx] = reg[idx]! & ~mask;
    v = Math.floor(v / 2);
  }
}

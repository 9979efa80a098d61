/**
 * The MKS Robin bootloader's file scrambling: bytes 320..31039 of the image are XORed with
 * a fixed 32-byte key indexed by (position & 31) (K-UMR, M-MKS). XOR makes it its own
 * inverse, so one function scrambles and unscrambles.
 */
import { parseVectorTable, type ParsedVectorTable } from './vector-table.js';

const KEY = Uint8Array.from([
  0xa3, 0xbd, 0xad, 0x0d, 0x41, 0x11, 0xbb, 0x8d, 0xdc, 0x80, 0x2d, 0xd0, 0xd2, 0xc4, 0x9b, 0x1e,
  0x26, 0xeb, 0xe3, 0x33, 0x4a, 0x15, 0xe4, 0x0a, 0xb3, 0xb1, 0x3c, 0x93, 0xbb, 0xaf, 0xf7, 0x3e,
]);
export const MKS_SCRAMBLE_START = 320;
export const MKS_SCRAMBLE_END = 31040;

/** Scramble or unscramble (the same operation). Returns a new array. */
export function mksRobinXor(bytes: Uint8Array): Uint8Array {
  const out = Uint8Array.from(bytes);
  const end = Math.min(MKS_SCRAMBLE_END, out.length);
  for (let pos = MKS_SCRAMBLE_START; pos < end; pos++) out[pos]! ^= KEY[pos & 31]!;
  return out;
}

/** How many words in the MKS-scrambled range look like pointers into the image's code region. */
function pointerScore(img: Uint8Array, vt: ParsedVectorTable): number {
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const lo = vt.region.base;
  const hi = lo + vt.region.span;
  let n = 0;
  for (let off = MKS_SCRAMBLE_START; off + 4 <= Math.min(img.length, MKS_SCRAMBLE_END); off += 4) {
    const x = v.getUint32(off, true);
    if (x >= lo && x < hi && (lo !== 0 || ((x & 1) === 1 && x >= 0x1000))) n++;
  }
  return n;
}

/**
 * True when `bytes` look like an MKS-scrambled image: the vector table (first 320 bytes,
 * left plain by the scrambler) is valid, and unscrambling the rest makes it look like code.
 */
export function isMksScrambled(bytes: Uint8Array): boolean {
  if (bytes.length <= MKS_SCRAMBLE_START + 64) return false;
  const vt = parseVectorTable(bytes);
  if (!vt) return false;
  const raw = pointerScore(bytes, vt);
  const plain = pointerScore(mksRobinXor(bytes), vt);
  return plain >= 4 && plain > 3 * raw + 2;
}


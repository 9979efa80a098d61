/**
 * The MKS Robin bootloader's file scrambling: bytes 320..31039 of the image are XORed with
 * a fixed 32-byte key indexed by (position & 31) (K-UMR, M-MKS). XOR makes it its own
 * inverse, so one function scrambles and unscrambles.
 */
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

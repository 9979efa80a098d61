/**
 * Chitu `.cbd` update files (K-UCH, M-CC). Layout: big-endian magic 0x443D2D3F, a
 * little-endian 32-bit file key (first 4 bytes of the image's MD5, read big-endian), a
 * little-endian XOR-checksum of the encoded words (seed 0xEF3D4323), then the image in
 * 0x800-byte blocks, each byte XORed with ((i*i + block*0x4BAD) >> (i % 24)) ^ key.
 */
import { createHash } from 'node:crypto';

export const CHITU_MAGIC = 0x443d2d3f;
const BLOCK = 0x800;
const CRC_SEED = 0xef3d4323;
export const CHITU_HEADER_BYTES = 12;

function xorBlock(data: Uint8Array, start: number, blockNumber: number, key: number): void {
  const blockSeed = 0x4bad * blockNumber;
  for (let i = 0; i < BLOCK; i++) {
    const shift = i % 24;
    // The values stay below 2^31 for any image that fits a Chitu board's flash.
    const seed = Math.floor((i * i + blockSeed) / 2 ** shift);
    data[start + i] = (seed ^ key ^ data[start + i]!) & 0xff;
  }
}

function checksum(data: Uint8Array): number {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let x = CRC_SEED;
  for (let i = 0; i + 4 <= data.length; i += 4) x = (x ^ v.getUint32(i, true)) >>> 0;
  return x >>> 0;
}

export function isChituCbd(bytes: Uint8Array): boolean {
  return bytes.length >= CHITU_HEADER_BYTES + BLOCK && new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, false) === CHITU_MAGIC;
}

/**
 * Encode an image. Like update_chitu.py, the image is padded to a whole block with the
 * ASCII bytes "0x0" repeated (a quirk of the original script, kept so our files match its output).
 */
export function chituEncode(image: Uint8Array): Uint8Array {
  let len = image.length;
  while (len % BLOCK !== 0) len += 3;
  const data = new Uint8Array(len);
  data.set(image);
  const pad = [0x30, 0x78, 0x30];
  for (let i = image.length, j = 0; i < len; i++, j++) data[i] = pad[j % 3]!;
  const md5 = createHash('md5').update(image).digest();
  const key = md5.readUInt32BE(0);
  for (let b = 0; b < len / BLOCK; b++) xorBlock(data, b * BLOCK, b, key);
  const out = new Uint8Array(CHITU_HEADER_BYTES + len);
  const v = new DataView(out.buffer);
  v.setUint32(0, CHITU_MAGIC, false);
  v.setUint32(4, key, true);
  v.setUint32(8, checksum(data), true);
  out.set(data, CHITU_HEADER_BYTES);
  return out;
}

export interface ChituDecoded {
  image: Uint8Array;
  key: number;
  checksumOk: boolean;
}

/** Decode a `.cbd` file. The image keeps the block padding (the original length is not stored). */
export function chituDecode(cbd: Uint8Array): ChituDecoded {
  if (!isChituCbd(cbd)) throw new RangeError('not a Chitu .cbd file');
  const v = new DataView(cbd.buffer, cbd.byteOffset, cbd.byteLength);
  const key = v.getUint32(4, true);
  const stored = v.getUint32(8, true);
  const body = cbd.subarray(CHITU_HEADER_BYTES);
  const usable = body.length - (body.length % BLOCK);
  const data = Uint8Array.from(body.subarray(0, usable));
  const checksumOk = checksum(data) === stored && usable === body.length;
  for (let b = 0; b < usable / BLOCK; b++) xorBlock(data, b * BLOCK, b, key);
  return { image: data, key, checksumOk };
}

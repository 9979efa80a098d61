/**
 * The Card Identification register (CID): decoding and building. Layout from the SD Physical
 * Layer spec, "CID Register Fields".
 */
import { crc7 } from './crc7.js';
import { getBits, setBits } from './register-bits.js';

export interface CidInfo {
  manufacturerId: number;
  /** Best-known name for the manufacturer id, when we know it. */
  manufacturerName: string | undefined;
  /** OEM/application id, two ASCII characters. */
  oemId: string;
  /** Product name, five ASCII characters. */
  productName: string;
  /** Product revision "n.m". */
  productRevision: string;
  /** 32-bit serial number. */
  serialNumber: number;
  manufactureYear: number;
  manufactureMonth: number;
  crcOk: boolean;
}

/**
 * Manufacturer ids. The SD Association does not publish this list; these are the ids the
 * Linux/embedded communities agree on for cards commonly found in printers.
 */
const MANUFACTURERS: Record<number, string> = {
  0x01: 'Panasonic',
  0x02: 'Toshiba',
  0x03: 'SanDisk',
  0x1b: 'Samsung',
  0x1d: 'ADATA',
  0x27: 'Phison',
  0x28: 'Lexar',
  0x31: 'Silicon Power',
  0x41: 'Kingston',
  0x74: 'Transcend',
  0x76: 'Patriot',
  0x82: 'Sony',
};

export function manufacturerName(id: number): string | undefined {
  return MANUFACTURERS[id];
}

function ascii(reg: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = reg[i]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  }
  return s;
}

/** Decode a 16-byte CID as read over SPI (CRC7 + end bit 1) or SDIO (CRC7 + 0). */
export function decodeCid(reg: Uint8Array): CidInfo {
  if (reg.length !== 16) throw new RangeError(`CID must be 16 bytes, got ${reg.length}`);
  const mid = getBits(reg, 127, 120);
  return {
    manufacturerId: mid,
    manufacturerName: manufacturerName(mid),
    oemId: ascii(reg, 1, 3),
    productName: ascii(reg, 3, 8),
    productRevision: `${getBits(reg, 63, 60)}.${getBits(reg, 59, 56)}`,
    serialNumber: getBits(reg, 55, 24),
    manufactureYear: 2000 + getBits(reg, 19, 12),
    manufactureMonth: getBits(reg, 11, 8),
    crcOk: reg[15]! >> 1 === crc7(reg, 0, 15),
  };
}

export interface BuildCidOptions {
  manufacturerId?: number;
  oemId?: string;
  productName?: string;
  /** [major, minor], each 0..15. */
  productRevision?: [number, number];
  serialNumber?: number;
  manufactureYear?: number;
  manufactureMonth?: number;
}

/** Build a CID (SPI form: CRC7 and end bit 1 in byte 15). Defaults describe a plausible SanDisk card. */
export function buildCid(opts: BuildCidOptions = {}): Uint8Array {
  const reg = new Uint8Array(16);
  const oem = (opts.oemId ?? 'SD').padEnd(2, ' ').slice(0, 2);
  const pnm = (opts.productName ?? 'SC08G').padEnd(5, ' ').slice(0, 5);
  const [maj, min] = opts.productRevision ?? [8, 0];
  const year = opts.manufactureYear ?? 2021;
  if (year < 2000 || year > 2255) throw new RangeError(`CID year ${year} outside 2000..2255`);
  setBits(reg, 127, 120, opts.manufacturerId ?? 0x03);
  for (let i = 0; i < 2; i++) reg[1 + i] = oem.charCodeAt(i) & 0x7f;
  for (let i = 0; i < 5; i++) reg[3 + i] = pnm.charCodeAt(i) & 0x7f;
  setBits(reg, 63, 60, maj & 15);
  setBits(reg, 59, 56, min & 15);
  setBits(reg, 55, 24, (opts.serialNumber ?? 0x1234abcd) >>> 0);
  setBits(reg, 19, 12, year - 2000);
  setBits(reg, 11, 8, opts.manufactureMonth ?? 6);
  reg[15] = (crc7(reg, 0, 15) << 1) | 1;
  return reg;
}

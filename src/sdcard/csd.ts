/**
 * The Card-Specific Data register (CSD): decoding what a card reports and building one for
 * the emulated card. Field positions are the SD Physical Layer spec's tables "CSD Register
 * Fields (CSD Version 1.0)" and "(CSD Version 2.0)".
 */
import { crc7 } from './crc7.js';
import { getBits, setBits } from './register-bits.js';

export type CardCapacityType = 'SDSC' | 'SDHC' | 'SDXC' | 'SDUC';

export interface CsdInfo {
  /** CSD_STRUCTURE + 1: 1 (SDSC), 2 (SDHC/SDXC), 3 (SDUC). */
  version: 1 | 2 | 3;
  capacityType: CardCapacityType;
  capacityBytes: number;
  /** Capacity in 512-byte sectors: what a block device built on the card exposes. */
  sectorCount: number;
  readBlockLength: number;
  writeBlockLength: number;
  /** Highest bus clock the card allows in its default mode (TRAN_SPEED), in Hz. */
  maxTransferHz: number;
  /** Command classes supported (CCC), one bit per class. */
  commandClasses: number;
  permanentWriteProtect: boolean;
  temporaryWriteProtect: boolean;
  /** Either write-protect bit: the card refuses writes. */
  writeProtected: boolean;
  /** The register's CRC7 (bits 7..1 of the last byte) matches its contents. */
  crcOk: boolean;
}

const TRAN_UNIT = [100e3, 1e6, 10e6, 100e6];
const TRAN_VALUE = [0, 1.0, 1.2, 1.3, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0, 8.0];

/** Decode a 16-byte CSD as read over SPI (CRC7 + end bit 1) or SDIO (CRC7 + 0). */
export function decodeCsd(reg: Uint8Array): CsdInfo {
  if (reg.length !== 16) throw new RangeError(`CSD must be 16 bytes, got ${reg.length}`);
  const structure = getBits(reg, 127, 126);
  const readBlockLength = 2 ** getBits(reg, 83, 80);
  let capacityBytes: number;
  let capacityType: CardCapacityType;
  if (structure === 0) {
    // Version 1.0: capacity = (C_SIZE+1) * 2^(C_SIZE_MULT+2) * 2^READ_BL_LEN.
    const cSize = getBits(reg, 73, 62);
    const mult = 2 ** (getBits(reg, 49, 47) + 2);
    capacityBytes = (cSize + 1) * mult * readBlockLength;
    capacityType = 'SDSC';
  } else if (structure === 1) {
    // Version 2.0: capacity = (C_SIZE+1) * 512 KiB; C_SIZE beyond 0xFFFF is SDXC (>32 GiB).
    const cSize = getBits(reg, 69, 48);
    capacityBytes = (cSize + 1) * 512 * 1024;
    capacityType = cSize > 0xffff ? 'SDXC' : 'SDHC';
  } else if (structure === 2) {
    // Version 3.0 (SDUC): 28-bit C_SIZE, same unit.
    const cSize = getBits(reg, 75, 48);
    capacityBytes = (cSize + 1) * 512 * 1024;
    capacityType = 'SDUC';
  } else {
    capacityBytes = 0;
    capacityType = 'SDSC';
  }
  const tran = getBits(reg, 103, 96);
  const perm = getBits(reg, 13, 13) === 1;
  const tmp = getBits(reg, 12, 12) === 1;
  return {
    version: (Math.min(structure, 2) + 1) as 1 | 2 | 3,
    capacityType,
    capacityBytes,
    sectorCount: Math.floor(capacityBytes / 512),
    readBlockLength,
    writeBlockLength: 2 ** getBits(reg, 25, 22),
    maxTransferHz: TRAN_UNIT[tran & 7]! * TRAN_VALUE[(tran >> 3) & 15]!,
    commandClasses: getBits(reg, 95, 84),
    permanentWriteProtect: perm,
    temporaryWriteProtect: tmp,
    writeProtected: perm || tmp,
    crcOk: reg[15]! >> 1 === crc7(reg, 0, 15),
  };
}

export interface BuildCsdOptions {
  /** SDSC gets a version 1.0 CSD, SDHC/SDXC a version 2.0 one. */
  capacityType: 'SDSC' | 'SDHC' | 'SDXC';
  capacityBytes: number;
  temporaryWriteProtect?: boolean;
  permanentWriteProtect?: boolean;
}

/** The largest capacity ≤ `bytes` that a CSD of this type can express. */
export function representableCapacity(type: BuildCsdOptions['capacityType'], bytes: number): number {
  if (type !== 'SDSC') return Math.floor(bytes / (512 * 1024)) * 512 * 1024;
  const f = sdscFields(bytes);
  return (f.cSize + 1) * 2 ** (f.mult + 2) * 2 ** f.blLen;
}

function sdscFields(bytes: number): { blLen: number; mult: number; cSize: number } {
  // Pick the smallest block length and multiplier that reach the size, so rounding loses least.
  for (let blLen = 9; blLen <= 11; blLen++) {
    for (let mult = 0; mult <= 7; mult++) {
      const unit = 2 ** (mult + 2) * 2 ** blLen;
      const n = Math.floor(bytes / unit);
      if (n >= 1 && n <= 4096) return { blLen, mult, cSize: n - 1 };
    }
  }
  throw new RangeError(`an SDSC card cannot hold ${bytes} bytes (1 KiB..4 GiB)`);
}

/** Build a CSD (SPI form: CRC7 and end bit 1 in byte 15) like a real card of this size reports. */
export function buildCsd(opts: BuildCsdOptions): Uint8Array {
  const reg = new Uint8Array(16);
  if (opts.capacityType === 'SDSC') {
    const f = sdscFields(opts.capacityBytes);
    setBits(reg, 127, 126, 0);
    setBits(reg, 119, 112, 0x26); // TAAC 1.5 ms, typical of SDSC cards
    setBits(reg, 111, 104, 0x00); // NSAC
    setBits(reg, 103, 96, 0x32); // TRAN_SPEED 25 MHz
    setBits(reg, 95, 84, 0x5b5); // CCC: classes 0, 2, 4, 5, 7, 8, 10
    setBits(reg, 83, 80, f.blLen); // READ_BL_LEN
    setBits(reg, 79, 79, 0); // READ_BL_PARTIAL off: we only move whole blocks
    setBits(reg, 73, 62, f.cSize);
    setBits(reg, 61, 50, 0xfff); // VDD currents: maximum
    setBits(reg, 49, 47, f.mult);
    setBits(reg, 46, 46, 1); // ERASE_BLK_EN
    setBits(reg, 45, 39, 0x7f); // SECTOR_SIZE
    setBits(reg, 28, 26, 2); // R2W_FACTOR
    setBits(reg, 25, 22, f.blLen); // WRITE_BL_LEN
  } else {
    const cSize = Math.floor(opts.capacityBytes / (512 * 1024)) - 1;
    if (cSize < 0) throw new RangeError(`an SDHC card needs at least 512 KiB, got ${opts.capacityBytes} bytes`);
    setBits(reg, 127, 126, 1);
    setBits(reg, 119, 112, 0x0e); // TAAC fixed 1 ms in version 2.0
    setBits(reg, 111, 104, 0x00); // NSAC fixed
    setBits(reg, 103, 96, 0x32); // TRAN_SPEED 25 MHz
    setBits(reg, 95, 84, 0x5b5);
    setBits(reg, 83, 80, 9); // READ_BL_LEN fixed 512
    setBits(reg, 69, 48, cSize);
    setBits(reg, 46, 46, 1);
    setBits(reg, 45, 39, 0x7f);
    setBits(reg, 28, 26, 2);
    setBits(reg, 25, 22, 9);
  }
  setBits(reg, 14, 14, 0); // COPY
  setBits(reg, 13, 13, opts.permanentWriteProtect ? 1 : 0);
  setBits(reg, 12, 12, opts.temporaryWriteProtect ? 1 : 0);
  reg[15] = (crc7(reg, 0, 15) << 1) | 1;
  return reg;
}

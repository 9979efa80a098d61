/**
 * Numbers of the SD protocol shared by the emulated card and the host drivers: command
 * indices, response bits, tokens. Names follow the SD Physical Layer Simplified Spec.
 */
import { crc7Byte } from './crc7.js';

export const Cmd = {
  GO_IDLE_STATE: 0,
  ALL_SEND_CID: 2,
  SEND_RELATIVE_ADDR: 3,
  /** ACMD6 after CMD55. */
  SET_BUS_WIDTH: 6,
  SELECT_CARD: 7,
  SEND_IF_COND: 8,
  SEND_CSD: 9,
  SEND_CID: 10,
  STOP_TRANSMISSION: 12,
  SEND_STATUS: 13,
  SET_BLOCKLEN: 16,
  READ_SINGLE_BLOCK: 17,
  READ_MULTIPLE_BLOCK: 18,
  WRITE_BLOCK: 24,
  WRITE_MULTIPLE_BLOCK: 25,
  /** ACMD41 after CMD55. */
  SD_SEND_OP_COND: 41,
  APP_CMD: 55,
  READ_OCR: 58,
  CRC_ON_OFF: 59,
} as const;

/** R1 in SPI mode: one byte, bit 7 always 0. */
export const R1 = {
  IDLE: 0x01,
  ERASE_RESET: 0x02,
  ILLEGAL_COMMAND: 0x04,
  COM_CRC_ERROR: 0x08,
  ERASE_SEQUENCE_ERROR: 0x10,
  ADDRESS_ERROR: 0x20,
  PARAMETER_ERROR: 0x40,
} as const;

/** Second byte of R2 (the SPI answer to CMD13). */
export const R2 = {
  CARD_LOCKED: 0x01,
  WP_ERASE_SKIP: 0x02,
  ERROR: 0x04,
  CC_ERROR: 0x08,
  CARD_ECC_FAILED: 0x10,
  WP_VIOLATION: 0x20,
  ERASE_PARAM: 0x40,
  OUT_OF_RANGE: 0x80,
} as const;

/** Data tokens in SPI mode. */
export const Token = {
  /** Starts a block of CMD17/18/24 and of CID/CSD. */
  START_BLOCK: 0xfe,
  /** Starts each block of CMD25. */
  START_MULTI_WRITE: 0xfc,
  /** Ends CMD25. */
  STOP_TRAN: 0xfd,
} as const;

/** Data-response token after a written block: `xxx0sss1`, status in bits 3..1. */
export const DataResponse = {
  MASK: 0x1f,
  ACCEPTED: 0x05,
  CRC_ERROR: 0x0b,
  WRITE_ERROR: 0x0d,
} as const;

/** Data error token instead of a read block: `0000eeee`. */
export const DataErrorToken = {
  ERROR: 0x01,
  CC_ERROR: 0x02,
  CARD_ECC_FAILED: 0x04,
  OUT_OF_RANGE: 0x08,
} as const;

/** OCR bits (R3 in SPI, the ACMD41 answer in SD mode). */
export const Ocr = {
  /** Power-up finished (the card is ready). */
  BUSY: 0x8000_0000,
  /** Card Capacity Status: 1 = SDHC/SDXC (block addressing). Valid only with BUSY set. */
  CCS: 0x4000_0000,
  /** 2.7–3.6 V window, bits 23..15. */
  VDD_27_36: 0x00ff_8000,
} as const;

/** ACMD41 argument: Host Capacity Support, the host understands block addressing. */
export const ACMD41_HCS = 0x4000_0000;

/** 32-bit card status (SD mode R1, and the status inside R6). */
export const Status = {
  OUT_OF_RANGE: 1 << 31,
  ADDRESS_ERROR: 1 << 30,
  BLOCK_LEN_ERROR: 1 << 29,
  ERASE_SEQ_ERROR: 1 << 28,
  ERASE_PARAM: 1 << 27,
  WP_VIOLATION: 1 << 26,
  CARD_IS_LOCKED: 1 << 25,
  LOCK_UNLOCK_FAILED: 1 << 24,
  COM_CRC_ERROR: 1 << 23,
  ILLEGAL_COMMAND: 1 << 22,
  CARD_ECC_FAILED: 1 << 21,
  CC_ERROR: 1 << 20,
  ERROR: 1 << 19,
  CSD_OVERWRITE: 1 << 16,
  WP_ERASE_SKIP: 1 << 15,
  ERASE_RESET: 1 << 13,
  READY_FOR_DATA: 1 << 8,
  APP_CMD: 1 << 5,
  AKE_SEQ_ERROR: 1 << 3,
} as const;

/** Error bits of the card status a host must treat as failure. */
export const STATUS_ERROR_MASK =
  (Status.OUT_OF_RANGE |
    Status.ADDRESS_ERROR |
    Status.BLOCK_LEN_ERROR |
    Status.ERASE_SEQ_ERROR |
    Status.ERASE_PARAM |
    Status.WP_VIOLATION |
    Status.LOCK_UNLOCK_FAILED |
    Status.COM_CRC_ERROR |
    Status.ILLEGAL_COMMAND |
    Status.CARD_ECC_FAILED |
    Status.CC_ERROR |
    Status.ERROR |
    Status.CSD_OVERWRITE |
    Status.AKE_SEQ_ERROR) >>>
  0;

/** CURRENT_STATE, status bits 12..9. */
export const CardState = {
  idle: 0,
  ready: 1,
  ident: 2,
  stby: 3,
  tran: 4,
  data: 5,
  rcv: 6,
  prg: 7,
  dis: 8,
} as const;
export type CardStateName = keyof typeof CardState;

export function statusState(status: number): number {
  return (status >>> 9) & 0xf;
}

/** The 6-byte SPI command frame: 01 + index, 32-bit argument, CRC7 + end bit. */
export function commandFrame(index: number, argument: number): Uint8Array {
  const f = new Uint8Array(6);
  f[0] = 0x40 | (index & 0x3f);
  f[1] = (argument >>> 24) & 0xff;
  f[2] = (argument >>> 16) & 0xff;
  f[3] = (argument >>> 8) & 0xff;
  f[4] = argument & 0xff;
  f[5] = crc7Byte(f, 0, 5);
  return f;
}

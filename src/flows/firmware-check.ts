import type { Board } from '../boards/types.js';
import { convertForBoard, firmwareImage, inspectFirmware, type FirmwareReport, type Finding } from '../firmware/index.js';

export type { Finding };

export interface FirmwareCheck {
  findings: Finding[];
  /** The bytes that go on the card (after the board's conversion, if any). */
  writeBytes: Uint8Array;
  report: FirmwareReport;
}

/**
 * Inspect the firmware against the board before anything is written (MCU, link address vs. the
 * bootloader's start address, size vs. flash), and convert it the way the board's bootloader
 * needs (MKS Robin scramble, Chitu .cbd). An ELF or Intel HEX file is written as the raw image
 * objcopy makes of it.
 */
export function checkFirmwareForBoard(bytes: Uint8Array, board: Board, fileName: string): FirmwareCheck {
  const report = inspectFirmware(bytes, { board, fileName });
  return { findings: report.findings, writeBytes: convertForBoard(firmwareImage(bytes), board), report };
}

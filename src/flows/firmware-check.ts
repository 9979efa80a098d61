import type { Board } from '../boards/types.js';

export interface Finding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  hint?: string;
}

export interface FirmwareCheck {
  findings: Finding[];
  /** The bytes that go on the card (after the board's conversion, if any). */
  writeBytes: Uint8Array;
  report: unknown;
}

/** Inspect the firmware against the board before anything is written. */
export function checkFirmwareForBoard(bytes: Uint8Array, _board: Board, _fileName: string): FirmwareCheck {
  return { findings: [], writeBytes: bytes, report: null };
}

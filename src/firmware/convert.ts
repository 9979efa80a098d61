/** The byte transformations some stock bootloaders need, applied when writing the card. */
import type { Board } from '../boards/types.js';
import { chituEncode, isChituCbd } from './chitu.js';
import { isMksScrambled, mksRobinXor } from './mks-robin.js';

export type Conversion = 'none' | 'mks-robin' | 'chitu-v6';

/** The conversion a board's bootloader needs (Klipper's definition wins when it has one). */
export function boardConversion(board: Board): Conversion {
  return board.klipper?.conversion ?? board.conversion?.value ?? 'none';
}

/**
 * The bytes to put on the card for `board`: MKS Robin XOR scramble, Chitu .cbd encoding, or
 * the input unchanged. A file that is already scrambled/encoded is passed through, so
 * converting twice never undoes the conversion.
 */
export function convertForBoard(bytes: Uint8Array, board: Board): Uint8Array {
  switch (boardConversion(board)) {
    case 'mks-robin':
      return isMksScrambled(bytes) ? Uint8Array.from(bytes) : mksRobinXor(bytes);
    case 'chitu-v6':
      return isChituCbd(bytes) ? Uint8Array.from(bytes) : chituEncode(bytes);
    case 'none':
      return Uint8Array.from(bytes);
  }
}

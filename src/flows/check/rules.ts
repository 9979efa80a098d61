import { boardLabel } from '../../boards/label.js';
import type { Board, FileSystemName } from '../../boards/types.js';

/**
 * The card rules `check` applies: the board's catalog facts where it has them, the generic
 * SD-bootloader view where it is silent (and then the finding says so), or the generic view
 * alone without --board. The generic view is what nearly every stock bootloader takes: an MBR
 * card, FAT16 or FAT32, clusters up to 32 KiB (the largest the FAT specification calls broadly
 * compatible), firmware.bin in the root, renamed to FIRMWARE.CUR after a flash.
 */
export interface Known<T> {
  value: T;
  /** false: the catalog does not say; `value` is the generic rule. */
  known: boolean;
}

export interface CheckRules {
  board: Board | null;
  /** The board as the user named it, for messages: "alias (catalog name)" when an alias was typed. */
  boardName: string | null;
  firmwareName: string;
  folder: string;
  /** Names a bootloader leaves after a successful flash (empty when it leaves the file or deletes it). */
  afterFlash: string[];
  uniqueName: boolean;
  caseSensitive: boolean | 'unknown';
  readsLongNames: boolean | 'unknown';
  fileSystems: FileSystemName[];
  maxCardBytes: Known<number | null>;
  maxClusterBytes: Known<number>;
  superfloppy: Known<boolean | 'unknown'>;
  gpt: Known<boolean>;
  /** Confidence note on the card facts ("inferred: …"). */
  cardConfidence: string | null;
}

export const GENERIC_MAX_CLUSTER = 32 * 1024;

export function rulesFor(board: Board | null, typed?: string): CheckRules {
  if (!board) {
    return {
      board: null,
      boardName: null,
      firmwareName: 'firmware.bin',
      folder: '',
      afterFlash: ['FIRMWARE.CUR'],
      uniqueName: false,
      caseSensitive: false,
      readsLongNames: 'unknown',
      fileSystems: ['FAT16', 'FAT32'],
      maxCardBytes: { value: null, known: false },
      maxClusterBytes: { value: GENERIC_MAX_CLUSTER, known: false },
      superfloppy: { value: 'unknown', known: false },
      gpt: { value: false, known: false },
      cardConfidence: null,
    };
  }
  const card = board.card.value;
  const after = board.afterFlash.value;
  return {
    board,
    boardName: boardLabel(typed, board.name),
    firmwareName: board.firmwareName.value,
    folder: board.folder.value.replace(/^\/+|\/+$/g, ''),
    afterFlash: after === 'left' || after === 'deleted' || after === '' ? [] : [after],
    uniqueName: board.uniqueName.value,
    caseSensitive: board.caseSensitive.value,
    readsLongNames: board.readsLongNames.value,
    fileSystems: card.fileSystems,
    maxCardBytes: card.maxCardBytes !== undefined ? { value: card.maxCardBytes, known: true } : { value: null, known: false },
    maxClusterBytes: card.maxClusterBytes !== undefined ? { value: card.maxClusterBytes, known: true } : { value: GENERIC_MAX_CLUSTER, known: false },
    superfloppy: card.superfloppy !== undefined ? { value: card.superfloppy, known: true } : { value: 'unknown', known: false },
    gpt: card.gpt !== undefined ? { value: card.gpt, known: true } : { value: false, known: false },
    cardConfidence: board.card.confidence === 'verified' ? null : `${board.card.confidence}${board.card.note ? `: ${board.card.note}` : ''}`,
  };
}

/** "the catalog does not say whether btt-x reads GPT cards" — the words used wherever a rule is unknown. */
export function unknownRule(rules: CheckRules, what: string): string {
  return rules.boardName ? `the catalog does not say ${what} for ${rules.boardName}; judged by the generic SD-bootloader view` : 'generic SD-bootloader view (no --board given)';
}

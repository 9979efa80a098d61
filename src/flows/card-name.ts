import type { Board } from '../boards/types.js';

/**
 * The board's naming rules for the firmware file on its card, in one place: which folder, which
 * name, whether each flash needs a new name, and which old files must go.
 */

/**
 * Whether the board needs a new name each flash (Creality 4.2.x flash-loop protection: the
 * bootloader skips a name it flashed last time). The catalog's fact and Klipper's
 * `requires_unique_fw_name` are both honoured: either one means a board that refuses a name twice.
 */
export function needsUniqueName(board: Board): boolean {
  return board.uniqueName.value || !!board.klipper?.requiresUniqueFwName;
}

/** The board's firmware folder as an absolute FAT path: "/" for the root, else "/KLIPPER". */
export function cardFolder(board: Board): string {
  const folder = board.folder.value.replace(/^\/+|\/+$/g, '');
  return folder ? `/${folder}` : '/';
}

/**
 * The file name the board's bootloader looks for. Boards that take "any *.bin" and need a
 * different name each time get a fresh 8.3 name: some of them read only 8.3 names ("no more than
 * 8 characters before the dot", Sovol forum).
 */
export function cardFileName(board: Board, now: Date, taken: string[] = []): string {
  if (!needsUniqueName(board)) {
    const wanted = board.firmwareName.value;
    return wanted.includes('*') ? 'firmware.bin' : wanted;
  }
  const lower = new Set(taken.map((t) => t.toLowerCase()));
  // "fw" + six base-36 digits of the time in seconds: unique for 69 years, and ordered.
  let t = Math.floor(now.getTime() / 1000);
  for (;;) {
    const name = `fw${(t % 36 ** 6).toString(36).padStart(6, '0')}.bin`;
    if (!lower.has(name)) return name;
    t++;
  }
}

export function cardPath(board: Board, fileName: string): string {
  const folder = cardFolder(board);
  return folder === '/' ? `/${fileName}` : `${folder}/${fileName}`;
}

/**
 * Where a name comes from for a board that is not unique-name: the catalog's `firmwareName` (what
 * the bootloader is documented to read; `prepare`) or Klipper's board definition (`flash-sdcard`,
 * which does what Klipper's script does).
 */
export type NameSource = 'catalog' | 'klipper';

/** Where the firmware goes on the card, and what goes with it. */
export interface CardTarget {
  /** The board's folder ("/" for the root). */
  folder: string;
  /** The final path of the firmware file. */
  path: string;
  /** Files to remove (paths): every other *.bin in the folder, on a unique-name board. */
  removes: string[];
}

/**
 * Plan the firmware's place on the card from the names already in the board's folder
 * (`existing`, files only). A unique-name board gets a name not in `existing`, and its other
 * *.bin files are to be removed: the bootloader would take any of them, and an old one could be
 * flashed instead of the new one.
 */
export function planCardTarget(board: Board, o: { existing: string[]; now: Date; follow?: NameSource }): CardTarget {
  // Klipper's script uploads to board_defs.py's `firmware_path` unless the board is unique-name.
  const klipperName = o.follow === 'klipper' && !needsUniqueName(board) ? board.klipper?.firmwarePath : undefined;
  const name = klipperName ?? cardFileName(board, o.now, o.existing);
  const removes = needsUniqueName(board)
    ? o.existing.filter((n) => /\.bin$/i.test(n) && n.toLowerCase() !== name.toLowerCase()).map((n) => cardPath(board, n))
    : [];
  return { folder: cardFolder(board), path: cardPath(board, name), removes };
}

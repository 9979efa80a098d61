import type { Board } from '../boards/types.js';

/**
 * The path on the card the board's bootloader looks for. Boards that take "any *.bin" and need
 * a different name each time (Creality 4.2.x flash-loop protection) get a fresh 8.3 name: some
 * of them read only 8.3 names ("no more than 8 characters before the dot", Sovol forum).
 */
export function cardFileName(board: Board, now: Date, taken: string[] = []): string {
  const wanted = board.firmwareName.value;
  if (!board.uniqueName.value && !wanted.includes('*')) return wanted;
  if (!board.uniqueName.value) return 'firmware.bin';
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
  const folder = board.folder.value.replace(/^\/+|\/+$/g, '');
  return folder ? `/${folder}/${fileName}` : `/${fileName}`;
}

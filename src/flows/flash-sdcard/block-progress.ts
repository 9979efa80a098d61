import type { ProgressEvent, ProgressListener } from '../../progress.js';

/** FatFs reports a file's progress after each chunk of this size (fat/fat-volume.ts). */
const CHUNK = 16 * 1024;
const SD_BLOCK = 512;
const TICK_MS = 100;

/**
 * Progress of a file going over the MCU, moved on per SD block: FatFs reports after each 16 KiB
 * chunk, seconds apart on a Klipper link, so the line jumped and looked stuck between. Between
 * FatFs's reports the card's live block count moves it on, never past the chunk in flight.
 */
export function perBlockProgress(card: { readonly blocksMoved: number }, emit: ProgressListener): { listener: ProgressListener; stop: () => void } {
  let last: ProgressEvent | null = null;
  let base = 0;
  let shown = 0;
  const timer = setInterval(() => {
    if (!last || last.done || last.bytes === undefined || !last.total) return;
    const moved = (card.blocksMoved - base) * SD_BLOCK;
    const bytes = Math.min(last.bytes + moved, last.bytes + CHUNK, last.total - 1);
    if (bytes > shown) {
      shown = bytes;
      emit({ ...last, bytes });
    }
  }, TICK_MS);
  timer.unref();
  return {
    listener: (e) => {
      last = e;
      base = card.blocksMoved;
      shown = e.bytes ?? 0;
      emit(e);
    },
    stop: () => clearInterval(timer),
  };
}

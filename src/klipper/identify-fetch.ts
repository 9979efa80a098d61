/**
 * Fetching the data dictionary with several `identify` requests in flight. Klipper's
 * `command_identify` (src/command.c) answers `identify offset=%u count=%c` with
 * `identify_response offset=%u data=%.*s`, clipping `count` at the dictionary's end (an empty
 * answer past it). The answer names its offset, so requests need not wait for each other:
 * asking for a window of chunks at once costs one round trip per window, not per chunk.
 * A chunk must fit the answer in one message: `command_encodef` silently drops an answer
 * that does not (`need_space`), so `maxIdentifyChunk` sizes it by the offset's VLQ length.
 */
import { DeviceError, FormatError } from '../errors.js';
import type { Params } from './param-types.js';

/** Chunks asked per round. */
export const IDENTIFY_WINDOW = 8;
/** A real dictionary is a few KiB; anything near this is not one. */
const MAX_DICTIONARY = 1 << 22;

/**
 * Largest `count` whose answer fits Klipper's 64-byte message (59 bytes of content) for
 * offsets below `upTo`: the id (1 byte, identify_response is 0), the offset's VLQ, the
 * length byte, then the data (command_encodef needs `v < maxend - p`).
 */
export function maxIdentifyChunk(upTo: number): number {
  const offsetBytes = upTo < 96 ? 1 : upTo < 12288 ? 2 : upTo < 1572864 ? 3 : upTo < 201326592 ? 4 : 5;
  return 59 - 1 - offsetBytes - 1;
}

export interface IdentifyLink {
  /** Send one encoded `identify`; resolves when the MCU acknowledged it (its answer came first). */
  send(offset: number, count: number): Promise<unknown>;
  /** Subscribe to identify_response; returns the unsubscribe function. */
  subscribe(handler: (p: Params) => void): () => void;
}

/**
 * The dictionary's bytes: rounds of `window` requests at offsets `chunk` apart from the first
 * byte not yet held, until an answer ends short. Answers to earlier rounds are kept by offset;
 * a round that brings nothing new costs one of `retries`.
 */
export async function fetchIdentifyData(link: IdentifyLink, chunk?: number, window = IDENTIFY_WINDOW, retries = 5): Promise<Uint8Array> {
  const got = new Map<number, Uint8Array>();
  const off = link.subscribe((p) => {
    const offset = p.offset as number;
    if (!got.has(offset)) got.set(offset, p.data as Uint8Array);
  });
  const parts: Uint8Array[] = [];
  let size = 0;
  let stale = 0;
  try {
    for (;;) {
      // Take every chunk held from the first byte missing on.
      let ended = false;
      for (let d = got.get(size); d !== undefined; d = got.get(size)) {
        if (!d.length) {
          ended = true;
          break;
        }
        parts.push(d);
        size += d.length;
        if (size > MAX_DICTIONARY) throw new FormatError('bad-dictionary', 'the MCU sent an implausibly large data dictionary');
      }
      // command_identify clips only at the end: a short chunk with an empty answer past it ends
      // the dictionary too, without asking again at the end's own offset.
      const last = parts[parts.length - 1];
      const step = chunk ?? maxIdentifyChunk(size + window * 64);
      if (!ended && last && last.length < step && [...got].some(([o, d]) => o > size && !d.length)) ended = true;
      if (ended) break;
      const n = last && last.length < step ? 1 : window;
      const before = size;
      const offsets = [...Array(n).keys()].map((i) => size + i * step).filter((o) => !got.has(o));
      await Promise.all(offsets.map((o) => link.send(o, step)));
      if (got.has(before) || size !== before) stale = 0;
      else if (++stale > retries) {
        throw new DeviceError('no-response', 'no "identify_response" response from the MCU', {
          hint: 'The link is losing messages; check the cable and baud rate.',
          details: { response: 'identify_response' },
        });
      }
    }
  } finally {
    off();
  }
  const all = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

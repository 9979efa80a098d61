import { crc16Ccitt } from './crc16.js';

/**
 * Message blocks: <len><seq><content><crc16 hi><crc16 lo><0x7e>. `len` counts the whole
 * block (5..64); `seq` is 0x10 | (sequence & 0x0f). See Klipper docs/Protocol.md.
 */
export const MESSAGE_MIN = 5;
export const MESSAGE_MAX = 64;
export const MESSAGE_HEADER_SIZE = 2;
export const MESSAGE_TRAILER_SIZE = 3;
export const MESSAGE_PAYLOAD_MAX = MESSAGE_MAX - MESSAGE_MIN;
export const MESSAGE_SEQ_MASK = 0x0f;
export const MESSAGE_DEST = 0x10;
export const MESSAGE_SYNC = 0x7e;

/** Frame `content` (at most 59 bytes) as a block with sequence number `seq` (low 4 bits used). */
export function encodeBlock(seq: number, content: ArrayLike<number> = []): Uint8Array {
  if (content.length > MESSAGE_PAYLOAD_MAX) throw new RangeError(`block content of ${content.length} bytes exceeds ${MESSAGE_PAYLOAD_MAX}`);
  const len = MESSAGE_MIN + content.length;
  const out = new Uint8Array(len);
  out[0] = len;
  out[1] = MESSAGE_DEST | (seq & MESSAGE_SEQ_MASK);
  out.set(Array.from(content), MESSAGE_HEADER_SIZE);
  const crc = crc16Ccitt(out, 0, len - MESSAGE_TRAILER_SIZE);
  out[len - 3] = crc >>> 8;
  out[len - 2] = crc & 0xff;
  out[len - 1] = MESSAGE_SYNC;
  return out;
}

/** A well-formed block found in a byte stream. */
export interface Block {
  /** The whole block, header and trailer included. */
  bytes: Uint8Array;
  /** Low 4 bits of the sequence byte. */
  seq: number;
  /** Content between header and trailer. */
  content: Uint8Array;
}

/**
 * Check the start of `buf` like Klipper's msgblock_check: returns the block length when a
 * valid block starts at 0, 0 when more bytes are needed, or -n to discard n bad bytes (up to
 * and including the next sync byte).
 */
export function checkBlock(buf: Uint8Array, len: number): number {
  if (len < MESSAGE_MIN) return 0;
  const msglen = buf[0]!;
  let bad = msglen < MESSAGE_MIN || msglen > MESSAGE_MAX || (buf[1]! & ~MESSAGE_SEQ_MASK) !== MESSAGE_DEST;
  if (!bad) {
    if (len < msglen) return 0;
    if (buf[msglen - 1] !== MESSAGE_SYNC) bad = true;
    else {
      const crc = (buf[msglen - 3]! << 8) | buf[msglen - 2]!;
      if (crc !== crc16Ccitt(buf, 0, msglen - MESSAGE_TRAILER_SIZE)) bad = true;
    }
  }
  if (!bad) return msglen;
  const sync = buf.subarray(0, len).indexOf(MESSAGE_SYNC);
  return sync >= 0 ? -(sync + 1) : -len;
}

/**
 * Incremental block finder for one direction of a link. Garbage is skipped up to the next
 * sync byte (a sync byte may also appear inside a block, so after an error the decoder
 * resynchronises at every following 0x7e, as Klipper's host does).
 */
export class BlockDecoder {
  private buf = new Uint8Array(4096);
  private len = 0;
  private needSync = false;
  /** Bytes discarded as invalid so far. */
  invalidBytes = 0;
  /** Valid blocks seen so far. */
  validBlocks = 0;

  /** Feed bytes; returns the complete blocks found. */
  push(data: Uint8Array): Block[] {
    const out: Block[] = [];
    let off = 0;
    while (off < data.length) {
      const n = Math.min(this.buf.length - this.len, data.length - off);
      this.buf.set(data.subarray(off, off + n), this.len);
      this.len += n;
      off += n;
      this.drain(out);
    }
    return out;
  }

  private drain(out: Block[]): void {
    for (;;) {
      let r: number;
      if (this.needSync && this.len > 0) {
        const sync = this.buf.subarray(0, this.len).indexOf(MESSAGE_SYNC);
        if (sync >= 0) this.needSync = false;
        r = sync >= 0 ? -(sync + 1) : -this.len;
      } else {
        r = checkBlock(this.buf, this.len);
      }
      if (r === 0) {
        // Waiting for a long block whose length byte may be corrupt: if a complete valid block
        // already follows a sync byte, the bytes before it were garbage. (Klipper's host would
        // wait for the bogus length to fill up; on a quiet link that can take seconds.)
        r = this.skipToEmbeddedBlock();
        if (r === 0) return;
      }
      if (r > 0) {
        const bytes = this.buf.slice(0, r);
        out.push({ bytes, seq: bytes[1]! & MESSAGE_SEQ_MASK, content: bytes.subarray(MESSAGE_HEADER_SIZE, r - MESSAGE_TRAILER_SIZE) });
        this.validBlocks++;
      } else {
        r = -r;
        this.invalidBytes += r;
        // A leading sync byte is padding, not an error (Klipper sends one before retransmits).
        if (!(r === 1 && this.buf[0] === MESSAGE_SYNC)) this.needSync = this.buf.subarray(0, r).indexOf(MESSAGE_SYNC) < 0;
      }
      this.buf.copyWithin(0, r, this.len);
      this.len -= r;
      if (this.len === 0) return;
    }
  }

  private skipToEmbeddedBlock(): number {
    if (this.needSync || this.len <= MESSAGE_MIN) return 0;
    for (let i = 0; i < this.len - MESSAGE_MIN; i++) {
      if (this.buf[i] !== MESSAGE_SYNC) continue;
      const rest = this.buf.subarray(i + 1, this.len);
      if (checkBlock(rest, rest.length) > 0) return -(i + 1);
    }
    return 0;
  }

  /** Forget buffered bytes (after a reconnect). */
  reset(): void {
    this.len = 0;
    this.needSync = false;
  }
}

import { crc16Ccitt } from '../klipper/crc16.js';
import { MESSAGE_DEST, MESSAGE_MAX, MESSAGE_MIN, MESSAGE_SEQ_MASK, MESSAGE_SYNC } from '../klipper/frame.js';

/** What command_find_block decided about the bytes at the front of the buffer. */
export interface FoundBlock {
  /** 1: a valid block in sequence, 0: need more bytes, -1: discard `pop` bytes. */
  ret: 1 | 0 | -1;
  pop: number;
  /** The host must be told to retransmit (a NAK: an empty block with the expected sequence). */
  nak: boolean;
}

/**
 * The device side of Klipper's block framing (src/command.c command_find_block), state for
 * state: a block in sequence is accepted and advances the sequence; one out of sequence or a
 * corrupt one is dropped with a NAK, and after corruption the reader resynchronises on the
 * next sync byte, NAKing only once until a valid block arrives.
 */
export class BlockReader {
  private needSync = false;
  private needValid = false;
  /** Sequence number (with MESSAGE_DEST) of the block expected next. */
  nextSeq = MESSAGE_DEST;

  find(buf: readonly number[]): FoundBlock {
    const len = buf.length;
    if (!(len && this.needSync)) {
      if (len < MESSAGE_MIN) return { ret: 0, pop: 0, nak: false };
      const msglen = buf[0]!;
      const msgseq = buf[1]!;
      let bad = msglen < MESSAGE_MIN || msglen > MESSAGE_MAX || (msgseq & ~MESSAGE_SEQ_MASK) !== MESSAGE_DEST;
      if (!bad) {
        if (len < msglen) return { ret: 0, pop: 0, nak: false };
        const crc = (buf[msglen - 3]! << 8) | buf[msglen - 2]!;
        bad = buf[msglen - 1] !== MESSAGE_SYNC || crc !== crc16Ccitt(buf, 0, msglen - 3);
      }
      if (!bad) {
        this.needValid = false;
        if (msgseq !== this.nextSeq) return { ret: -1, pop: msglen, nak: true };
        this.nextSeq = ((msgseq + 1) & MESSAGE_SEQ_MASK) | MESSAGE_DEST;
        return { ret: 1, pop: msglen, nak: false };
      }
      if (buf[0] === MESSAGE_SYNC) return { ret: -1, pop: 1, nak: false }; // leading sync bytes are not errors
      this.needSync = true;
    }
    const sync = buf.indexOf(MESSAGE_SYNC);
    let pop = len;
    if (sync >= 0) {
      this.needSync = false;
      pop = sync + 1;
    }
    if (this.needValid) return { ret: -1, pop, nak: false };
    this.needValid = true;
    return { ret: -1, pop, nak: true };
  }
}

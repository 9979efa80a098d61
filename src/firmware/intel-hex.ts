/**
 * Intel HEX (Intel "Hexadecimal Object File Format Specification", rev. A, 1988): text
 * records `:LLAAAATT<data>CC`. Types: 00 data, 01 end of file, 02 extended segment address
 * (base = value × 16), 03 start segment address, 04 extended linear address (upper 16 bits),
 * 05 start linear address. The checksum is the two's complement of the sum of all bytes.
 * Vendors publish stock bootloaders this way (BTT `bootload.hex`), and `hexToBinary` turns
 * one into the bytes `dfu-util`/`st-flash` write at its address, exactly as
 * `objcopy -I ihex -O binary` does (lowest address first, gaps filled with 0).
 */
import { FormatError } from '../errors.js';

export interface HexSegment {
  address: number;
  bytes: Uint8Array;
}

export interface IntelHex {
  /** Contiguous runs of data, sorted by address, adjacent records merged. */
  segments: HexSegment[];
  /** Start address from a type 05 (EIP) or 03 (CS:IP → CS×16+IP) record, if any. */
  startAddress: number | null;
  /** Lowest and one-past-highest data address (null without data). */
  low: number | null;
  high: number | null;
}

function bad(code: string, message: string, line: number, details: Record<string, unknown> = {}): FormatError {
  return new FormatError(`ihex-${code}`, `Intel HEX line ${line}: ${message}`, {
    hint: 'The file is damaged or not Intel HEX: download it again from its source.',
    details: { line, ...details },
  });
}

/** True when the text starts like Intel HEX (a ':' record line of hex digits). */
export function looksLikeIntelHex(b: Uint8Array): boolean {
  const head = Buffer.from(b.subarray(0, 64)).toString('latin1').trimStart();
  return /^:[0-9A-Fa-f]{10,}\r?$/m.test(head.split('\n')[0] ?? '');
}

/** Decode Intel HEX; throws FormatError (code ihex-*) on a malformed record or a bad checksum. */
export function parseIntelHex(input: Uint8Array | string): IntelHex {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const lines = text.split(/\r?\n/);
  // Type 02 and 04 set separate bases that add up, as binutils (bfd/ihex.c) reads them.
  let segBase = 0;
  let linBase = 0;
  let startAddress: number | null = null;
  let ended = false;
  const chunks: HexSegment[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const n = i + 1;
    if (line === '') continue;
    if (ended) throw bad('after-eof', 'data after the end-of-file record', n);
    if (line[0] !== ':') throw bad('syntax', `record does not start with ":"`, n);
    const hex = line.slice(1);
    if (hex.length < 10 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) throw bad('syntax', 'not a record of hex digit pairs', n);
    const rec = Uint8Array.from(Buffer.from(hex, 'hex'));
    const len = rec[0]!;
    if (rec.length !== len + 5) throw bad('length', `record says ${len} data bytes but holds ${rec.length - 5}`, n);
    let sum = 0;
    for (const x of rec) sum = (sum + x) & 0xff;
    if (sum !== 0) {
      const want = (0x100 - ((sum - rec[rec.length - 1]! + 0x100) & 0xff)) & 0xff;
      throw bad('checksum', `checksum ${rec[rec.length - 1]!.toString(16).padStart(2, '0').toUpperCase()} should be ${want.toString(16).padStart(2, '0').toUpperCase()}`, n, { expected: want, actual: rec[rec.length - 1] });
    }
    const offset = (rec[1]! << 8) | rec[2]!;
    const type = rec[3]!;
    const data = rec.subarray(4, 4 + len);
    switch (type) {
      case 0x00:
        // Base + offset, continuing linearly past 64 KiB inside a record (as binutils reads it).
        chunks.push({ address: (linBase + segBase + offset) >>> 0, bytes: Uint8Array.from(data) });
        break;
      case 0x01:
        ended = true;
        break;
      case 0x02:
        if (len !== 2) throw bad('length', 'extended segment address record must hold 2 bytes', n);
        segBase = ((data[0]! << 8) | data[1]!) * 16;
        break;
      case 0x03:
        if (len !== 4) throw bad('length', 'start segment address record must hold 4 bytes', n);
        startAddress = ((data[0]! << 8) | data[1]!) * 16 + ((data[2]! << 8) | data[3]!);
        break;
      case 0x04:
        if (len !== 2) throw bad('length', 'extended linear address record must hold 2 bytes', n);
        linBase = (((data[0]! << 8) | data[1]!) << 16) >>> 0;
        break;
      case 0x05:
        if (len !== 4) throw bad('length', 'start linear address record must hold 4 bytes', n);
        startAddress = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
        break;
      default:
        throw bad('record-type', `unknown record type ${type.toString(16).padStart(2, '0')}`, n, { type });
    }
  }
  if (!ended) throw bad('no-eof', 'no end-of-file record (:00000001FF): the file is truncated', lines.length);
  const segments = mergeSegments(chunks);
  const low = segments.length ? segments[0]!.address : null;
  const high = segments.length ? Math.max(...segments.map((s) => s.address + s.bytes.length)) : null;
  return { segments, startAddress, low, high };
}

function mergeSegments(chunks: HexSegment[]): HexSegment[] {
  const sorted = chunks.filter((c) => c.bytes.length > 0).sort((a, b) => a.address - b.address);
  const out: { address: number; parts: Uint8Array[]; end: number }[] = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (last && c.address === last.end) {
      last.parts.push(c.bytes);
      last.end += c.bytes.length;
    } else if (last && c.address < last.end) {
      throw new FormatError('ihex-overlap', `Intel HEX data at 0x${c.address.toString(16)} overlaps earlier data`, {
        hint: 'The file is damaged or was joined from two images: use the vendor’s original file.',
        details: { address: c.address },
      });
    } else out.push({ address: c.address, parts: [c.bytes], end: c.address + c.bytes.length });
  }
  return out.map((s) => ({ address: s.address, bytes: Buffer.concat(s.parts) }));
}

/** The flat binary `objcopy -I ihex -O binary` writes: from the lowest address, gaps 0. */
export function hexToBinary(input: Uint8Array | string | IntelHex): { address: number; bytes: Uint8Array } {
  const hex = typeof input === 'object' && 'segments' in input ? input : parseIntelHex(input);
  if (hex.low === null || hex.high === null) return { address: 0, bytes: new Uint8Array(0) };
  const out = new Uint8Array(hex.high - hex.low);
  for (const s of hex.segments) out.set(s.bytes, s.address - hex.low);
  return { address: hex.low, bytes: out };
}

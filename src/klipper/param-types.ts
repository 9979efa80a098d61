import { decodeVlq, encodeVlq, TruncatedError, type Decoded } from './vlq.js';

/** A decoded or to-be-encoded parameter: integers, enumeration names, byte strings. */
export type ParamValue = number | string | Uint8Array;
export type Params = Record<string, ParamValue>;

/** The printf-like types Klipper's message formats use. */
export type ParamFormat = '%u' | '%i' | '%hu' | '%hi' | '%c' | '%s' | '%.*s' | '%*s';

export interface ParamType {
  readonly format: ParamFormat;
  readonly isInt: boolean;
  readonly isString: boolean;
  /** Most bytes an encoded value can take (for block packing). */
  readonly maxLength: number;
  encode(out: number[], value: ParamValue): void;
  decode(buf: Uint8Array, pos: number, end: number): Decoded<ParamValue>;
}

/** Bad parameter value for its type or enumeration. */
export class ParamError extends Error {}

class IntType implements ParamType {
  readonly isInt = true;
  readonly isString = false;
  constructor(readonly format: ParamFormat, readonly signed: boolean, readonly maxLength: number) {}
  encode(out: number[], value: ParamValue): void {
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new ParamError(`expected an integer for ${this.format}, got ${String(value)}`);
    if (value < -0x80000000 || value > 0xffffffff) throw new ParamError(`${value} does not fit in 32 bits`);
    encodeVlq(out, value);
  }
  decode(buf: Uint8Array, pos: number, end: number): Decoded<number> {
    return decodeVlq(buf, pos, this.signed, end);
  }
}

class StringType implements ParamType {
  readonly isInt = false;
  readonly isString = true;
  readonly maxLength = 64;
  constructor(readonly format: ParamFormat) {}
  encode(out: number[], value: ParamValue): void {
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (!(bytes instanceof Uint8Array)) throw new ParamError(`expected bytes for ${this.format}`);
    if (bytes.length > 0xff) throw new ParamError(`string of ${bytes.length} bytes is too long`);
    out.push(bytes.length);
    for (const b of bytes) out.push(b);
  }
  decode(buf: Uint8Array, pos: number, end: number): Decoded<Uint8Array> {
    if (pos >= end) throw new TruncatedError('string past end of message');
    const len = buf[pos]!;
    if (pos + 1 + len > end) throw new TruncatedError('string past end of message');
    return { value: buf.slice(pos + 1, pos + 1 + len), pos: pos + 1 + len };
  }
}

export const PARAM_TYPES: Readonly<Record<ParamFormat, ParamType>> = {
  '%u': new IntType('%u', false, 5),
  '%i': new IntType('%i', true, 5),
  '%hu': new IntType('%hu', false, 3),
  '%hi': new IntType('%hi', true, 3),
  '%c': new IntType('%c', false, 2),
  '%s': new StringType('%s'),
  '%.*s': new StringType('%.*s'),
  '%*s': new StringType('%*s'),
};

export function paramType(fmt: string): ParamType {
  const t = (PARAM_TYPES as Record<string, ParamType>)[fmt];
  if (!t) throw new ParamError(`unknown parameter type "${fmt}"`);
  return t;
}

/**
 * An integer parameter whose values have names (pins, buses, static strings). Encoding takes
 * the name (or a raw number); decoding gives the name, or "?<n>" for a value with no name,
 * as Klipper's host does.
 */
export class EnumType implements ParamType {
  readonly isInt = false;
  readonly isString = false;
  readonly format: ParamFormat;
  readonly maxLength: number;
  private readonly reverse = new Map<number, string>();
  constructor(readonly base: ParamType, readonly enumName: string, readonly values: ReadonlyMap<string, number>) {
    this.format = base.format;
    this.maxLength = base.maxLength;
    for (const [k, v] of values) if (!this.reverse.has(v)) this.reverse.set(v, k);
  }
  encode(out: number[], value: ParamValue): void {
    if (typeof value === 'number') return this.base.encode(out, value);
    if (typeof value !== 'string') throw new ParamError(`expected a name from enumeration "${this.enumName}"`);
    const v = this.values.get(value);
    if (v === undefined) throw new ParamError(`unknown value "${value}" in enumeration "${this.enumName}"`);
    this.base.encode(out, v);
  }
  decode(buf: Uint8Array, pos: number, end: number): Decoded<string> {
    const d = this.base.decode(buf, pos, end);
    const v = d.value as number;
    return { value: this.reverse.get(v) ?? `?${v}`, pos: d.pos };
  }
}

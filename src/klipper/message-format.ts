import { encodeVlq } from './vlq.js';
import { EnumType, ParamError, paramType, type ParamType, type ParamValue, type Params } from './param-types.js';

export type Enumerations = ReadonlyMap<string, ReadonlyMap<string, number>>;

export interface ParamSpec {
  name: string;
  type: ParamType;
}

/**
 * One command or response format such as "spi_transfer oid=%c data=%*s", bound to its message
 * id. Parameters named like an enumeration (exactly, or ending in "_<enum>") take names, as
 * in Klipper's msgproto.lookup_params.
 */
export class MessageFormat {
  readonly name: string;
  readonly params: readonly ParamSpec[];
  readonly idBytes: readonly number[];

  constructor(readonly id: number, readonly format: string, enumerations: Enumerations = new Map()) {
    const parts = format.trim().split(/\s+/);
    this.name = parts[0]!;
    this.params = parts.slice(1).map((arg) => {
      const eq = arg.indexOf('=');
      if (eq < 0) throw new ParamError(`malformed parameter "${arg}" in "${format}"`);
      const name = arg.slice(0, eq);
      let type = paramType(arg.slice(eq + 1));
      for (const [enumName, values] of enumerations) {
        if (name === enumName || name.endsWith('_' + enumName)) {
          type = new EnumType(type, enumName, values);
          break;
        }
      }
      return { name, type };
    });
    const idb: number[] = [];
    encodeVlq(idb, id);
    this.idBytes = idb;
  }

  get paramNames(): string[] {
    return this.params.map((p) => p.name);
  }

  /** Encode with parameters by name (every parameter is required). */
  encode(params: Params = {}): number[] {
    const out = [...this.idBytes];
    for (const p of this.params) {
      const v = params[p.name];
      if (v === undefined) throw new ParamError(`${this.name}: missing parameter "${p.name}"`);
      p.type.encode(out, v);
    }
    for (const k of Object.keys(params)) {
      if (!this.params.some((p) => p.name === k)) throw new ParamError(`${this.name}: no parameter "${k}" in "${this.format}"`);
    }
    return out;
  }

  /** Decode the parameters that follow this message's id at `pos` (pos points at the id). */
  decode(buf: Uint8Array, pos: number, end: number): { params: Params; pos: number } {
    pos += this.idBytes.length;
    const params: Params = {};
    for (const p of this.params) {
      const d = p.type.decode(buf, pos, end);
      params[p.name] = d.value;
      pos = d.pos;
    }
    return { params, pos };
  }

  /** Klipper's human form, e.g. "spi_send oid=0 data=b'\x01'" (buffers as hex here). */
  describe(params: Params): string {
    return [this.name, ...this.params.map((p) => `${p.name}=${formatValue(params[p.name])}`)].join(' ');
  }
}

function formatValue(v: ParamValue | undefined): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return String(v);
}

/**
 * A debugging "output()" format: printf text with embedded parameters, decoded to one
 * message string.
 */
export class OutputFormat {
  readonly name = '#output';
  readonly types: ParamType[];
  readonly idBytes: readonly number[];
  constructor(readonly id: number, readonly format: string) {
    this.types = [];
    const re = /%(%|\.\*s|\*s|hu|hi|u|i|c|s)/g;
    for (const m of format.matchAll(re)) if (m[1] !== '%') this.types.push(paramType('%' + m[1]));
    const idb: number[] = [];
    encodeVlq(idb, id);
    this.idBytes = idb;
  }
  decode(buf: Uint8Array, pos: number, end: number): { params: Params; pos: number } {
    pos += this.idBytes.length;
    const values: ParamValue[] = [];
    for (const t of this.types) {
      const d = t.decode(buf, pos, end);
      values.push(d.value);
      pos = d.pos;
    }
    let i = 0;
    const msg = this.format.replace(/%(%|\.\*s|\*s|hu|hi|u|i|c|s)/g, (_m, t: string) => {
      if (t === '%') return '%';
      const v = values[i++];
      return v instanceof Uint8Array ? JSON.stringify(Buffer.from(v).toString('latin1')) : String(v);
    });
    return { params: { '#msg': msg }, pos };
  }
}

/** Parse a Klipper text command ("config_spi oid=0 pin=PA4 cs_active_high=0"). */
export function parseCommandText(text: string): { name: string; args: Record<string, string> } {
  const parts = text.trim().split(/\s+/);
  const args: Record<string, string> = {};
  for (const a of parts.slice(1)) {
    const eq = a.indexOf('=');
    if (eq < 0) throw new ParamError(`malformed argument "${a}"`);
    args[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return { name: parts[0] ?? '', args };
}

/** Convert text arguments to values of the format's types (hex for buffers, like Klipper). */
export function textArgsToParams(fmt: MessageFormat, args: Record<string, string>): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(args)) {
    const spec = fmt.params.find((p) => p.name === k);
    if (!spec) throw new ParamError(`${fmt.name}: no parameter "${k}" in "${fmt.format}"`);
    if (spec.type.isString) {
      if (!/^([0-9a-fA-F]{2})*$/.test(v)) throw new ParamError(`${fmt.name}: "${k}" must be hex bytes`);
      out[k] = Uint8Array.from(Buffer.from(v, 'hex'));
    } else if (spec.type.isInt) {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new ParamError(`${fmt.name}: "${k}" must be an integer`);
      out[k] = n;
    } else {
      out[k] = /^-?\d+$/.test(v) || /^0x[0-9a-f]+$/i.test(v) ? Number(v) : v;
    }
  }
  return out;
}

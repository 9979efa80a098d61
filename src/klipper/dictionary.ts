import { inflateSync } from 'node:zlib';
import { MessageFormat, OutputFormat, type Enumerations } from './message-format.js';
import { decodeVlq } from './vlq.js';
import type { Params } from './param-types.js';

/** The ids Klipper hard-codes so the dictionary itself can be fetched (msgproto DefaultMessages). */
export const IDENTIFY_RESPONSE_FORMAT = 'identify_response offset=%u data=%.*s';
export const IDENTIFY_FORMAT = 'identify offset=%u count=%c';
export const IDENTIFY_RESPONSE_ID = 0;
export const IDENTIFY_ID = 1;

/** The JSON a Klipper build embeds (scripts/buildcommands.py), zlib-compressed. */
export interface RawDictionary {
  app?: string;
  license?: string;
  version?: string;
  build_versions?: string;
  commands?: Record<string, number>;
  responses?: Record<string, number>;
  output?: Record<string, number>;
  /** name -> value, or [start, count] for a ranged entry ("PA0": [0, 16] = PA0..PA15). */
  enumerations?: Record<string, Record<string, number | [number, number]>>;
  config?: Record<string, number | string>;
}

/** A decoded message from the MCU. */
export interface Message {
  name: string;
  params: Params;
}

/** The data dictionary could not be parsed or lacks something we need. */
export class DictionaryError extends Error {}

/** At most this many names from all ranged enumerations of one dictionary. */
export const MAX_ENUMERATION_NAMES = 1 << 18;

/**
 * Expand Klipper enumerations: ranged entries give names with the trailing number counted up
 * ("PA0": [0, 16] -> PA0..PA15 = 0..15; "P1.0": [32, 32] -> P1.0..P1.31 = 32..63), as
 * msgproto.fill_enumerations does.
 */
export function expandEnumerations(raw: RawDictionary['enumerations'] = {}): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  // The dictionary comes from the device: a hostile or corrupt one could ask for billions of
  // names ("PA0": [0, 4e9]). Real builds stay far below this (an MCU's pins, a few hundred).
  let budget = MAX_ENUMERATION_NAMES;
  for (const [enumName, entries] of Object.entries(raw)) {
    const m = out.get(enumName) ?? new Map<string, number>();
    out.set(enumName, m);
    for (const [name, value] of Object.entries(entries)) {
      if (typeof value === 'number') {
        m.set(name, value);
        continue;
      }
      if (!Array.isArray(value) || value.length !== 2) throw new DictionaryError(`bad enumeration entry ${enumName}.${name}`);
      const [start, count] = value;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || count < 0 || (budget -= count) < 0) {
        throw new DictionaryError(`bad enumeration range ${enumName}.${name}: [${String(start)}, ${String(count)}]`);
      }
      const root = name.replace(/\d+$/, '');
      const first = root.length === name.length ? 0 : Number(name.slice(root.length));
      for (let i = 0; i < count; i++) m.set(root + String(first + i), start + i);
    }
  }
  return out;
}

/**
 * A parsed data dictionary: message formats by id, name and format string, enumerations,
 * constants and version strings.
 */
export class DataDictionary {
  readonly enumerations: Enumerations;
  readonly constants: Readonly<Record<string, number | string>>;
  readonly version: string;
  readonly buildVersions: string;
  readonly app: string;
  readonly license: string;
  private readonly byId = new Map<number, MessageFormat | OutputFormat>();
  private readonly byName = new Map<string, MessageFormat>();
  private readonly commandNames = new Set<string>();
  /** static_string_id value -> text. */
  private readonly staticStrings = new Map<number, string>();

  constructor(readonly raw: RawDictionary, readonly rawBytes?: Uint8Array) {
    this.enumerations = expandEnumerations(raw.enumerations);
    this.constants = { ...(raw.config ?? {}) };
    this.version = raw.version ?? '';
    this.buildVersions = raw.build_versions ?? '';
    this.app = raw.app ?? '';
    this.license = raw.license ?? '';
    const all: Array<[string, number, 'command' | 'response' | 'output']> = [
      [IDENTIFY_RESPONSE_FORMAT, IDENTIFY_RESPONSE_ID, 'response'],
      [IDENTIFY_FORMAT, IDENTIFY_ID, 'command'],
    ];
    for (const [f, id] of Object.entries(raw.commands ?? {})) all.push([f, id, 'command']);
    for (const [f, id] of Object.entries(raw.responses ?? {})) all.push([f, id, 'response']);
    for (const [f, id] of Object.entries(raw.output ?? {})) all.push([f, id, 'output']);
    for (const [format, id, kind] of all) {
      if (!Number.isInteger(id)) throw new DictionaryError(`message "${format}" has a bad id`);
      if (kind === 'output') {
        this.byId.set(id, new OutputFormat(id, format));
        continue;
      }
      let mf: MessageFormat;
      try {
        mf = new MessageFormat(id, format, this.enumerations);
      } catch (e) {
        // The format strings come from the device: a malformed one is a bad dictionary.
        throw new DictionaryError(`message "${format}": ${(e as Error).message}`);
      }
      this.byId.set(id, mf);
      this.byName.set(mf.name, mf);
      if (kind === 'command') this.commandNames.add(mf.name);
    }
    for (const [name, v] of this.enumerations.get('static_string_id') ?? []) this.staticStrings.set(v, name);
  }

  /** Parse the bytes assembled from identify_response chunks (zlib JSON). */
  static fromCompressed(data: Uint8Array): DataDictionary {
    let text: string;
    try {
      text = inflateSync(data).toString('utf8');
    } catch (e) {
      throw new DictionaryError(`data dictionary is not zlib data: ${(e as Error).message}`);
    }
    return DataDictionary.fromJson(text, data);
  }

  static fromJson(text: string, rawBytes?: Uint8Array): DataDictionary {
    let raw: RawDictionary;
    try {
      raw = JSON.parse(text) as RawDictionary;
    } catch (e) {
      throw new DictionaryError(`data dictionary is not JSON: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || typeof raw.commands !== 'object' || typeof raw.responses !== 'object') {
      throw new DictionaryError('data dictionary has no commands/responses');
    }
    return new DataDictionary(raw, rawBytes);
  }

  /** The format for a command or response name, if the firmware has it. */
  find(name: string): MessageFormat | undefined {
    return this.byName.get(name);
  }

  isCommand(name: string): boolean {
    return this.commandNames.has(name);
  }

  /** The format whose string is exactly `format` (Klipper's lookup_command check). */
  lookup(format: string): MessageFormat | undefined {
    const f = format.trim();
    const mf = this.byName.get(f.split(/\s+/)[0]!);
    return mf && mf.format === f ? mf : undefined;
  }

  /** Decode one message at `pos` inside a block's content. Unknown ids give "#unknown". */
  decodeAt(content: Uint8Array, pos: number): { message: Message; pos: number } {
    const id = decodeVlq(content, pos, true).value;
    const f = this.byId.get(id);
    if (!f) return { message: { name: '#unknown', params: { '#msgid': id, '#msg': content.slice(pos) } }, pos: content.length };
    const d = f.decode(content, pos, content.length);
    return { message: { name: f.name, params: d.params }, pos: d.pos };
  }

  /** Decode every message in a block's content. */
  decodeAll(content: Uint8Array): Message[] {
    const out: Message[] = [];
    let pos = 0;
    while (pos < content.length) {
      const d = this.decodeAt(content, pos);
      out.push(d.message);
      pos = d.pos;
    }
    return out;
  }

  /** Text of a shutdown reason (static_string_id), or undefined when the id is unknown. */
  staticString(id: number | string): string | undefined {
    if (typeof id === 'string') return id.startsWith('?') ? undefined : id;
    return this.staticStrings.get(id);
  }

  constant(name: string): number | string | undefined {
    return this.constants[name];
  }

  constantNumber(name: string): number | undefined {
    const v = this.constants[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }

  enumeration(name: string): ReadonlyMap<string, number> | undefined {
    return this.enumerations.get(name);
  }

  /** All command and response format strings. */
  formats(): { commands: string[]; responses: string[] } {
    const commands: string[] = [];
    const responses: string[] = [];
    for (const f of this.byId.values()) {
      if (f instanceof OutputFormat) continue;
      (this.commandNames.has(f.name) ? commands : responses).push(f.format);
    }
    return { commands, responses };
  }
}

/** The dictionary every session starts with: only identify and its response. */
export function bootstrapDictionary(): DataDictionary {
  return new DataDictionary({ commands: {}, responses: {} });
}

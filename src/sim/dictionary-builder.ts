import { deflateSync } from 'node:zlib';
import type { RawDictionary } from '../klipper/dictionary.js';
import { decodeVlq } from '../klipper/vlq.js';

/**
 * Builds a data dictionary the way Klipper's scripts/buildcommands.py does for out/klipper.dict:
 * `identify_response` and `identify` take ids 0 and 1, then commands and responses take
 * ids in declaration order, static strings ids from 2. The simulator's own firmware and the
 * synthetic test firmware (fixtures/synth/) both build theirs here, each with its message list.
 */
export interface DictionaryParts {
  /** Command formats (DECL_COMMAND), in declaration order. */
  commands: readonly string[];
  /** Response formats (sendf), in declaration order. */
  responses: readonly string[];
  /** shutdown() texts, ids from 2 in this order. */
  staticStrings: readonly string[];
  config: Record<string, number | string>;
  /** Enumerations other than static_string_id. */
  enumerations: Record<string, Record<string, number | [number, number]>>;
  version: string;
  buildVersions: string;
}

const IDENTIFY_RESPONSE = 'identify_response offset=%u data=%.*s';
const IDENTIFY = 'identify offset=%u count=%c';

/**
 * Klipper sends message ids as VLQ ("encoded" ids 0..2^14); the dictionary stores the value
 * the encoding parses back to, where a first byte with bits 0x60 set is negative (msgproto PT_int32).
 */
export function encodedToMsgId(enc: number): number {
  const bytes = enc >= 0x80 ? [(enc >> 7) | 0x80, enc & 0x7f] : [enc];
  return decodeVlq(bytes, 0, true).value;
}

export function buildDictionary(p: DictionaryParts): RawDictionary {
  const commands: Record<string, number> = { [IDENTIFY]: 1 };
  const responses: Record<string, number> = { [IDENTIFY_RESPONSE]: 0 };
  let enc = 2;
  for (const c of p.commands) commands[c] = encodedToMsgId(enc++);
  for (const r of p.responses) responses[r] = encodedToMsgId(enc++);
  const staticIds: Record<string, number> = {};
  p.staticStrings.forEach((s, i) => (staticIds[s] = i + 2));
  return {
    app: 'Klipper',
    build_versions: p.buildVersions,
    commands,
    config: p.config,
    enumerations: { ...p.enumerations, static_string_id: staticIds },
    license: 'GNU GPLv3',
    responses,
    version: p.version,
  };
}

/** JSON text exactly as buildcommands.py writes it: sorted keys, no spaces. */
export function dictionaryJson(dict: RawDictionary | object): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) out[k] = sort((x as Record<string, unknown>)[k]);
      return out;
    }
    return x;
  };
  return JSON.stringify(sort(dict));
}

/** The dictionary as firmware embeds it: the JSON text, zlib level 9 (buildcommands.py: zlib.compress(data, 9)). */
export function compressDictionary(raw: RawDictionary): Uint8Array {
  return new Uint8Array(deflateSync(Buffer.from(dictionaryJson(raw)), { level: 9 }));
}

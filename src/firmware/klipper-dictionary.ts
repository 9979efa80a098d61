/**
 * Klipper builds carry their protocol data dictionary: the JSON of out/klipper.dict,
 * compressed with zlib level 9 and stored in flash as `command_identify_data` (K-BC); the
 * host reads it with the `identify` command (K-MSG). We find it by trying each zlib header
 * in the image and keeping the first stream that inflates to a Klipper-shaped JSON object.
 */
import { inflateSync } from 'node:zlib';
import { chituDecode, isChituCbd } from './chitu.js';
import { isMksScrambled, mksRobinXor } from './mks-robin.js';
import type { KlipperInfo, KlipperInterface } from './report.js';

export interface FoundDictionary {
  dictionary: Record<string, unknown>;
  offset: number;
  /** Compressed length in the image. */
  length: number;
}

const MAX_DICT_BYTES = 4 * 1024 * 1024;

function looksLikeKlipper(d: unknown): d is Record<string, unknown> {
  if (!d || typeof d !== 'object' || Array.isArray(d)) return false;
  const o = d as Record<string, unknown>;
  return typeof o.commands === 'object' && typeof o.responses === 'object' && typeof o.config === 'object';
}

/** Locate and decode the embedded dictionary; null if the image has none. */
export function findKlipperDictionary(bytes: Uint8Array): FoundDictionary | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Level-9 streams (0x78 0xDA) first: that is what buildcommands.py writes.
  for (const flg of [0xda, -1]) {
    for (let i = 0; i + 2 < buf.length; i++) {
      if (buf[i] !== 0x78) continue;
      const f = buf[i + 1]!;
      if (flg !== -1 ? f !== flg : f === 0xda || ((0x78 << 8) | f) % 31 !== 0) continue;
      let out: { buffer: Buffer; engine: { bytesWritten: number } };
      try {
        out = inflateSync(buf.subarray(i), { info: true, maxOutputLength: MAX_DICT_BYTES }) as unknown as typeof out;
      } catch {
        continue;
      }
      if (out.buffer.length < 2 || out.buffer[0] !== 0x7b /* { */) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(out.buffer.toString('utf8'));
      } catch {
        continue;
      }
      if (looksLikeKlipper(parsed)) return { dictionary: parsed, offset: i, length: out.engine.bytesWritten };
    }
  }
  return null;
}

/**
 * The Klipper data dictionary embedded in a firmware image, or null. Also reads files
 * as they sit on a card for MKS Robin (scrambled) and Chitu (.cbd) bootloaders.
 */
export function extractKlipperDictionary(bytes: Uint8Array): Record<string, unknown> | null {
  const plain = findKlipperDictionary(bytes);
  if (plain) return plain.dictionary;
  if (isChituCbd(bytes)) return findKlipperDictionary(chituDecode(bytes).image)?.dictionary ?? null;
  if (isMksScrambled(bytes)) return findKlipperDictionary(mksRobinXor(bytes))?.dictionary ?? null;
  return null;
}

const pins = (v: unknown): string[] => (typeof v === 'string' && v ? v.split(',').map((s) => s.trim()) : []);

/** How the build talks to the host, from the reserved-pin and baud constants Klipper declares. */
export function klipperInterface(config: Record<string, unknown>): KlipperInterface {
  const num = (k: string) => (typeof config[k] === 'number' ? (config[k] as number) : null);
  const usbKey = Object.keys(config).find((k) => /^RESERVE_PINS_USB/.test(k));
  if (config.CANBUS_BRIDGE !== undefined && usbKey) return { kind: 'usb-can-bridge', pins: pins(config[usbKey]), baud: null, canFrequency: num('CANBUS_FREQUENCY') };
  if (num('CANBUS_FREQUENCY') !== null) return { kind: 'can', pins: pins(config.RESERVE_PINS_CAN), baud: null, canFrequency: num('CANBUS_FREQUENCY') };
  if (num('SERIAL_BAUD') !== null) return { kind: 'serial', pins: pins(config.RESERVE_PINS_serial), baud: num('SERIAL_BAUD'), canFrequency: null };
  if (usbKey) return { kind: 'usb', pins: pins(config[usbKey]), baud: null, canFrequency: null };
  return { kind: 'unknown', pins: [], baud: null, canFrequency: null };
}

export function summariseKlipper(found: FoundDictionary): KlipperInfo {
  const d = found.dictionary;
  const config = (d.config ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    version: str(d.version),
    mcu: str(config.MCU),
    clockFreq: typeof config.CLOCK_FREQ === 'number' ? config.CLOCK_FREQ : null,
    buildVersions: str(d.build_versions),
    interface: klipperInterface(config),
    commands: Object.keys((d.commands ?? {}) as object).length,
    responses: Object.keys((d.responses ?? {}) as object).length,
    dictionaryOffset: found.offset,
    dictionaryBytes: found.length,
    config,
  };
}

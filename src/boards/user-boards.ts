/**
 * Parsing of a user's boards file: add a board or override facts of a known one without
 * editing the package (what Klipper users hack board_defs.py for).
 *
 * Format: `{ "boards": [ ... ] }` or a bare array. Each entry has a `name`; with the name
 * or alias of a known board it overrides the facts it gives; with `"extends": "<board>"`
 * it starts as a copy of that board; otherwise it is a new board and needs `mcu`,
 * `appStart` and `firmwareName`. A fact is either a plain value (recorded as `unverified`
 * with the file as its source) or `{ "value", "confidence", "sources", "note" }`.
 * Addresses may be numbers or strings ("0x08008000"). `klipper` accepts Klipper's own
 * board_defs.py keys (mcu, spi_bus, spi_pins, cs_pin, firmware_path, …).
 */
import { UsageError } from '../errors.js';
import type { Board, CardRules, Confidence, FileSystemName, KlipperBus, KlipperDef, Sourced } from './types.js';
import type { Catalog } from './catalog.js';

type Json = Record<string, unknown>;

const FACT_KEYS = ['appStart', 'flashBytes', 'bootloaderBus', 'folder', 'firmwareName', 'uniqueName', 'caseSensitive', 'readsLongNames', 'afterFlash', 'card', 'conversion', 'bootloaderImage'] as const;
type FactKey = (typeof FACT_KEYS)[number];
const KNOWN_KEYS = new Set<string>(['name', 'extends', 'aliases', 'vendor', 'models', 'mcu', 'klipper', 'notes', ...FACT_KEYS]);

function bad(file: string, where: string, msg: string): UsageError {
  return new UsageError('bad-boards-file', `${file}: ${where}: ${msg}`, {
    hint: 'Fix the entry; see `fwcard boards --help` for the file format.',
    details: { file, where },
  });
}

function num(v: unknown, file: string, where: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v.trim())) return Number(v.trim());
  throw bad(file, where, `expected a non-negative integer or "0x…" string, got ${JSON.stringify(v)}`);
}

const CONFIDENCES: Confidence[] = ['verified', 'inferred', 'unverified'];
const FILE_SYSTEMS: FileSystemName[] = ['FAT12', 'FAT16', 'FAT32', 'exFAT'];

function checkValue(key: FactKey, v: unknown, file: string, where: string): unknown {
  switch (key) {
    case 'appStart': {
      const arr = Array.isArray(v) ? v : [v];
      return arr.map((x, i) => num(x, file, `${where}[${i}]`));
    }
    case 'flashBytes':
      return num(v, file, where);
    case 'bootloaderBus':
      if (v === 'spi' || v === 'sdio' || v === 'unknown') return v;
      throw bad(file, where, 'expected "spi", "sdio" or "unknown"');
    case 'folder':
      if (typeof v === 'string') return v.replace(/^\/+|\/+$/g, '');
      throw bad(file, where, 'expected a folder name ("" for the root)');
    case 'firmwareName':
    case 'afterFlash':
      if (typeof v === 'string' && v.length > 0) return v;
      throw bad(file, where, 'expected a non-empty string');
    case 'bootloaderImage':
      // A link (or file) to the image; written at the MCU's flash base, converted when it is .hex.
      if (typeof v === 'string' && v.length > 0) return { url: v, repository: null, path: null, address: null, format: /\.hex$/i.test(v) ? 'hex' : 'bin' };
      throw bad(file, where, 'expected a non-empty string (where the image is)');
    case 'uniqueName':
      if (typeof v === 'boolean') return v;
      throw bad(file, where, 'expected true or false');
    case 'caseSensitive':
    case 'readsLongNames':
      if (typeof v === 'boolean' || v === 'unknown') return v;
      throw bad(file, where, 'expected true, false or "unknown"');
    case 'conversion':
      if (v === 'none' || v === 'mks-robin' || v === 'chitu-v6') return v;
      throw bad(file, where, 'expected "none", "mks-robin" or "chitu-v6"');
    case 'card': {
      if (!v || typeof v !== 'object') throw bad(file, where, 'expected an object with fileSystems');
      const c = v as Json;
      const fs = c.fileSystems;
      if (!Array.isArray(fs) || fs.length === 0 || !fs.every((x) => FILE_SYSTEMS.includes(x as FileSystemName))) {
        throw bad(file, `${where}.fileSystems`, `expected a list of ${FILE_SYSTEMS.join(', ')}`);
      }
      const out: CardRules = { fileSystems: fs as FileSystemName[] };
      if (c.maxCardBytes !== undefined) out.maxCardBytes = num(c.maxCardBytes, file, `${where}.maxCardBytes`);
      if (c.maxClusterBytes !== undefined) out.maxClusterBytes = num(c.maxClusterBytes, file, `${where}.maxClusterBytes`);
      if (c.superfloppy !== undefined) out.superfloppy = !!c.superfloppy;
      if (c.gpt !== undefined) out.gpt = !!c.gpt;
      return out;
    }
  }
}

function sourced(key: FactKey, raw: unknown, file: string, where: string): Sourced<unknown> {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'value' in (raw as Json)) {
    const r = raw as Json;
    const confidence = (r.confidence ?? 'unverified') as Confidence;
    if (!CONFIDENCES.includes(confidence)) throw bad(file, `${where}.confidence`, 'expected verified, inferred or unverified');
    const sources = r.sources === undefined ? [`user:${file}`] : r.sources;
    if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) throw bad(file, `${where}.sources`, 'expected a list of strings');
    const out: Sourced<unknown> = { value: checkValue(key, r.value, file, `${where}.value`), confidence, sources: sources as string[] };
    if (typeof r.note === 'string') out.note = r.note;
    return out;
  }
  return { value: checkValue(key, raw, file, where), confidence: 'unverified', sources: [`user:${file}`] };
}

// Pin names as Klipper spells them: STM32/GD32 "PA4", LPC176x "P0.6".
const PIN = /^(P[A-K](1[0-5]|[0-9])|P[0-4]\.([0-9]|[12][0-9]|3[01]))$/;
function pin(p: string, file: string, where: string): string {
  if (!PIN.test(p)) throw bad(file, where, `"${p}" is not a pin name (like PA4 or P0.6)`);
  return p;
}

function klipperFrom(raw: unknown, file: string, where: string): KlipperDef {
  if (!raw || typeof raw !== 'object') throw bad(file, where, 'expected an object');
  const k = raw as Json;
  const str = (key: string, ...alt: string[]): string | undefined => {
    for (const kk of [key, ...alt]) if (typeof k[kk] === 'string') return k[kk] as string;
    return undefined;
  };
  const mcu = str('mcu');
  if (!mcu) throw bad(file, `${where}.mcu`, 'required');
  let bus: KlipperBus;
  if (k.bus && typeof k.bus === 'object') bus = k.bus as KlipperBus;
  else {
    const spiBus = str('spi_bus', 'spiBus');
    const sdioBus = str('sdio_bus', 'sdioBus');
    if (spiBus === 'swspi') {
      const pins = (str('spi_pins', 'spiPins') ?? '').split(',').map((s) => s.trim());
      if (pins.length !== 3 || pins.some((p) => !p)) throw bad(file, `${where}.spi_pins`, 'swspi needs "miso,mosi,sclk"');
      bus = { kind: 'swspi', miso: pin(pins[0]!, file, `${where}.spi_pins`), mosi: pin(pins[1]!, file, `${where}.spi_pins`), sclk: pin(pins[2]!, file, `${where}.spi_pins`) };
    } else if (spiBus) bus = { kind: 'spi', bus: spiBus };
    else if (sdioBus) bus = { kind: 'sdio', bus: sdioBus };
    else throw bad(file, where, 'needs spi_bus (or sdio_bus)');
  }
  const conv = str('conversion', 'conversion_script');
  const conversion = conv === undefined ? undefined : /mks|robin/i.test(conv) ? 'mks-robin' : /chitu/i.test(conv) ? 'chitu-v6' : undefined;
  if (conv !== undefined && !conversion) throw bad(file, `${where}.conversion`, 'expected mks-robin or chitu-v6');
  const def: KlipperDef = {
    mcu,
    bus,
    firmwarePath: str('firmware_path', 'firmwarePath') ?? 'firmware.bin',
    currentFirmwarePath: str('current_firmware_path', 'currentFirmwarePath') ?? 'firmware.cur',
    skipVerify: !!(k.skip_verify ?? k.skipVerify),
    requiresUniqueFwName: !!(k.requires_unique_fw_name ?? k.requiresUniqueFwName),
  };
  const cs = str('cs_pin', 'csPin');
  if (cs) def.csPin = pin(cs, file, `${where}.cs_pin`);
  if (conversion) def.conversion = conversion;
  return def;
}

const strList = (v: unknown, file: string, where: string): string[] => {
  if (v === undefined) return [];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  throw bad(file, where, 'expected a list of strings');
};

export function parseBoardsFile(text: string, file: string, known: Catalog): Board[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError('bad-boards-file', `${file} is not valid JSON: ${(e as Error).message}`, { hint: 'Check the file with a JSON validator.', details: { file }, cause: e });
  }
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' && Array.isArray((doc as Json).boards) ? ((doc as Json).boards as unknown[]) : null;
  if (!list) throw bad(file, 'top level', 'expected { "boards": [ … ] } or an array of boards');
  return list.map((raw, i) => {
    const where = `boards[${i}]`;
    if (!raw || typeof raw !== 'object') throw bad(file, where, 'expected an object');
    const e = raw as Json;
    if (typeof e.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(e.name)) throw bad(file, `${where}.name`, 'expected a board name (letters, digits, . _ -)');
    for (const k of Object.keys(e)) if (!KNOWN_KEYS.has(k)) throw bad(file, `${where}.${k}`, 'unknown key');
    const baseName = typeof e.extends === 'string' ? e.extends : e.name;
    const base = known.find(baseName);
    if (typeof e.extends === 'string' && !base) throw bad(file, `${where}.extends`, `unknown board "${e.extends}"`);
    const board: Partial<Board> & Record<string, unknown> = base
      ? { ...base, name: typeof e.extends === 'string' ? e.name : base.name, aliases: typeof e.extends === 'string' ? [] : [...base.aliases] }
      : {
          name: e.name,
          aliases: [],
          vendor: 'user',
          models: [],
          bootloaderBus: { value: 'unknown', confidence: 'unverified', sources: [`user:${file}`] },
          folder: { value: '', confidence: 'unverified', sources: [`user:${file}`] },
          uniqueName: { value: false, confidence: 'unverified', sources: [`user:${file}`] },
          caseSensitive: { value: 'unknown', confidence: 'unverified', sources: [`user:${file}`] },
          readsLongNames: { value: 'unknown', confidence: 'unverified', sources: [`user:${file}`] },
          afterFlash: { value: 'left', confidence: 'unverified', sources: [`user:${file}`] },
          card: { value: { fileSystems: ['FAT32'] }, confidence: 'unverified', sources: [`user:${file}`] },
        };
    if (!base) {
      for (const req of ['mcu', 'appStart', 'firmwareName'] as const) if (e[req] === undefined) throw bad(file, `${where}.${req}`, 'required for a new board');
    }
    if (e.aliases !== undefined) board.aliases = strList(e.aliases, file, `${where}.aliases`);
    if (e.models !== undefined) board.models = strList(e.models, file, `${where}.models`);
    if (e.notes !== undefined) board.notes = strList(e.notes, file, `${where}.notes`);
    if (typeof e.vendor === 'string') board.vendor = e.vendor;
    if (e.mcu !== undefined) {
      if (typeof e.mcu !== 'string' || !e.mcu) throw bad(file, `${where}.mcu`, 'expected an MCU name such as stm32f446xx');
      board.mcu = e.mcu.toLowerCase();
    }
    if (e.klipper !== undefined) board.klipper = klipperFrom(e.klipper, file, `${where}.klipper`);
    for (const key of FACT_KEYS) if (e[key] !== undefined) (board as Record<string, unknown>)[key] = sourced(key, e[key], file, `${where}.${key}`);
    board.origin = file;
    return board as Board;
  });
}

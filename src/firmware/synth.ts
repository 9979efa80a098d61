/**
 * Synthetic Cortex-M firmware images for tests and fixtures. Our own bytes, never a
 * third-party binary: a vector table, pseudo Thumb code with literal pools that point back
 * into the image (as compiled code does), read-only strings, optionally a Klipper-style
 * zlib-compressed data dictionary and Marlin-style version strings. Deterministic for a
 * given seed so fixtures regenerate byte-identically.
 */
import { deflateSync } from 'node:zlib';
import { mcuMemory, type McuMemory } from './mcu-memory.js';
import { dictionaryText, makeKlipperDictionary, type KlipperDictionary, type SynthInterface } from './synth-dictionary.js';
import { KLIPPER_VECTOR_MARKER } from './vector-table.js';
import { prng } from '../util/prng.js';

export interface SynthKlipperOptions {
  version?: string;
  buildVersions?: string;
  clockFreq?: number;
  interface?: SynthInterface;
  config?: Record<string, string | number>;
}

export interface SynthMarlinOptions {
  version: string;
  machine?: string;
  /** Compile date text as __DATE__ " " __TIME__ would give. */
  date?: string;
}

export interface SyntheticFirmwareOptions {
  /** Klipper MCU identifier, e.g. "stm32f446xx", "lpc1769". */
  mcu: string;
  /** Address the image is linked to run from (default: start of flash = no bootloader). */
  flashStart?: number;
  /** Total size in bytes (default 24 KiB). The image is padded with code to this size. */
  size?: number;
  /** Embed a Klipper data dictionary (true = defaults). */
  klipper?: boolean | SynthKlipperOptions;
  /** Shortcut for `klipper: { version }`. */
  klipperVersion?: string;
  /** Embed Marlin version strings. */
  marlin?: SynthMarlinOptions;
  /** Store `SCB->VTOR = VectorTable` as a literal (as Klipper and STM32 HALs do). Default true. */
  vtorLiteral?: boolean;
  /** Initial stack pointer (default: top of the MCU's RAM). */
  stackTop?: number;
  /** Fill vector entry 7 with the LPC ROM checksum (sum of entries 0-7 = 0). */
  lpcChecksum?: boolean;
  seed?: number;
}

export interface SyntheticFirmware {
  bytes: Uint8Array;
  flashStart: number;
  mcu: string;
  /** The embedded dictionary (null without Klipper). */
  dictionary: KlipperDictionary | null;
  /** The dictionary as Klipper writes out/klipper.dict. */
  dictionaryJson: string | null;
  /** Image offsets of the parts, for tests. */
  layout: { vectorTableBytes: number; codeEnd: number; rodataStart: number; dictionaryOffset: number | null; dataStart: number };
}



// Thumb-16 opcode ranges the filler draws from. None has an upper halfword below 0x2000, so
// filler never looks like a flash pointer (0x08xxxxxx or 0x000xxxxx): only our literals do.
const OPCODE_RANGES: [number, number][] = [
  [0x2000, 0x27ff], // movs rN, #imm
  [0x2800, 0x2fff], // cmp rN, #imm
  [0x3000, 0x37ff], // adds rN, #imm
  [0x4600, 0x46ff], // mov
  [0x6000, 0x60ff], // str
  [0x6800, 0x68ff], // ldr
  [0xd000, 0xddff], // b<cond>
];

class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u16(off: number, v: number): void {
    this.view.setUint16(off, v, true);
  }
  u32(off: number, v: number): void {
    this.view.setUint32(off, v >>> 0, true);
  }
}

/** Build a synthetic image. Throws RangeError when the parts do not fit in `size`. */
export function makeSyntheticFirmware(opts: SyntheticFirmwareOptions): SyntheticFirmware {
  const mem: McuMemory | undefined = mcuMemory(opts.mcu);
  if (!mem) throw new RangeError(`makeSyntheticFirmware: unknown MCU "${opts.mcu}"`);
  const base = opts.flashStart ?? mem.flashBase;
  const size = opts.size ?? 24 * 1024;
  const rand = prng(opts.seed ?? 0x5eed);
  const irand = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

  const kOpts: SynthKlipperOptions | null =
    opts.klipper === true || (opts.klipper === undefined && opts.klipperVersion)
      ? {}
      : opts.klipper && typeof opts.klipper === 'object'
        ? opts.klipper
        : null;
  const dictionary = kOpts
    ? makeKlipperDictionary({ mcu: mem.mcu, ...kOpts, version: kOpts.version ?? opts.klipperVersion })
    : null;
  const dictionaryJson = dictionary ? dictionaryText(dictionary) : null;
  // buildcommands.py: zlib.compress(datadict, 9)
  const zdict = dictionaryJson ? new Uint8Array(deflateSync(Buffer.from(dictionaryJson), { level: 9 })) : null;

  // Read-only strings.
  const strings: string[] = [];
  if (dictionary) strings.push('Timer too close', 'Invalid command', 'Move queue overflow', 'Stepper too far in past');
  if (opts.marlin) {
    const m = opts.marlin;
    const date = m.date ?? 'Nov 24 2026 12:00:00';
    strings.push(
      `Marlin ${m.version}`,
      `FIRMWARE_NAME:Marlin ${m.version} (${date}) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 MACHINE_TYPE:${m.machine ?? '3D Printer'} EXTRUDER_COUNT:1 UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff`,
      'echo:start',
      ' Last Updated: ',
      'Printer halted. kill() called!',
    );
  }
  strings.push('fwcard synthetic test image');
  const strBytes = strings.map((s) => new TextEncoder().encode(s + '\0'));
  const rodataLen = strBytes.reduce((n, b) => n + ((b.length + 3) & ~3), 0) + (zdict ? (zdict.length + 3) & ~3 : 0);

  const vtWords = 16 + mem.irqCount + (dictionary ? 1 : 0);
  const vtBytes = vtWords * 4;
  const dataLen = 64; // .data initial values copied to RAM at start-up
  const rodataStart = (size - dataLen - rodataLen) & ~3;
  if (rodataStart < vtBytes + 512) throw new RangeError(`makeSyntheticFirmware: size ${size} too small for the parts (${vtBytes + 512 + rodataLen + dataLen} needed)`);

  const w = new Writer(size);
  // --- rodata: strings then the compressed dictionary
  let off = rodataStart;
  const stringAddrs: number[] = [];
  for (const b of strBytes) {
    stringAddrs.push(base + off);
    w.buf.set(b, off);
    off += (b.length + 3) & ~3;
  }
  let dictionaryOffset: number | null = null;
  if (zdict) {
    dictionaryOffset = off;
    w.buf.set(zdict, off);
    off += (zdict.length + 3) & ~3;
  }
  const dataStart = size - dataLen;
  for (let i = 0; i < dataLen; i += 4) w.u32(dataStart + i, i < 16 ? mem.ramStart + irand(0x100, 0x400) * 4 : irand(0, 0xffff));

  // --- code: functions of random Thumb opcodes, each followed by a literal pool
  const funcs: number[] = [];
  let pc = vtBytes;
  const literalAt: number[] = [];
  while (pc < rodataStart - 48) {
    funcs.push(pc);
    const body = Math.min(irand(8, 120), Math.floor((rodataStart - 48 - pc) / 2));
    w.u16(pc, 0xb5f0); // push {r4-r7, lr}
    pc += 2;
    for (let i = 0; i < body; i++, pc += 2) {
      const [lo, hi] = OPCODE_RANGES[irand(0, OPCODE_RANGES.length - 1)]!;
      w.u16(pc, irand(lo, hi));
    }
    w.u16(pc, 0xbdf0); // pop {r4-r7, pc}
    pc += 2;
    if (pc & 2) {
      w.u16(pc, 0xbf00); // nop to align the pool
      pc += 2;
    }
    const pool = irand(1, 4);
    for (let i = 0; i < pool && pc + 4 <= rodataStart; i++, pc += 4) literalAt.push(pc);
  }
  while (pc + 2 <= rodataStart) {
    w.u16(pc, 0xbf00);
    pc += 2;
  }
  const codeEnd = rodataStart;
  const fnAddr = (i: number) => (base + funcs[i % funcs.length]!) | 1;

  // Literal pools: pointers to functions and strings in this image, RAM variables,
  // peripheral registers and plain constants (what a compiler puts there).
  const vtorSlot = opts.vtorLiteral === false ? -1 : literalAt.length > 2 ? 1 : -1;
  literalAt.forEach((at, i) => {
    if (i === vtorSlot) return w.u32(at, base);
    const r = rand();
    if (r < 0.35) w.u32(at, fnAddr(irand(0, funcs.length - 1)));
    else if (r < 0.55) w.u32(at, stringAddrs[irand(0, stringAddrs.length - 1)]!);
    else if (r < 0.6 && dictionaryOffset !== null) w.u32(at, base + dictionaryOffset);
    else if (r < 0.8) w.u32(at, mem.ramStart + irand(0, mem.ramBytes / 4 - 1) * 4);
    else if (r < 0.9) w.u32(at, 0x40000000 + irand(0, 0x3ffff) * 4);
    else w.u32(at, irand(0, 0xffff));
  });

  // --- vector table
  const stackTop = opts.stackTop ?? mem.ramStart + mem.ramBytes;
  const defaultHandler = fnAddr(funcs.length - 1);
  w.u32(0, stackTop);
  w.u32(4, fnAddr(0)); // Reset
  for (let i = 2; i < 16; i++) {
    const reserved = i >= 7 && i <= 10 ? true : i === 13;
    w.u32(i * 4, reserved ? 0 : i <= 6 ? fnAddr(i) : defaultHandler);
  }
  for (let i = 16; i < 16 + mem.irqCount; i++) w.u32(i * 4, rand() < 0.1 ? fnAddr(irand(1, funcs.length - 1)) : defaultHandler);
  if (dictionary) w.u32((vtWords - 1) * 4, KLIPPER_VECTOR_MARKER);
  if (opts.lpcChecksum) {
    let sum = 0;
    for (let i = 0; i < 7; i++) sum = (sum + w.view.getUint32(i * 4, true)) >>> 0;
    w.u32(7 * 4, (0x100000000 - sum) >>> 0);
  }

  return {
    bytes: w.buf,
    flashStart: base,
    mcu: mem.mcu,
    dictionary,
    dictionaryJson,
    layout: { vectorTableBytes: vtBytes, codeEnd, rodataStart, dictionaryOffset, dataStart },
  };
}

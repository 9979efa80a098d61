/**
 * ARMv7-M / ARMv6-M vector table at the start of an image: word 0 is the initial stack
 * pointer (in RAM), word 1 the reset handler, then exception handlers, all Thumb addresses
 * (bit 0 set) or 0 for reserved slots. Klipper's generated table ends with 0x55AA11EE (K-BC).
 */
import type { McuFamily } from './mcu-memory.js';
import type { VectorTableInfo } from './report.js';

export const KLIPPER_VECTOR_MARKER = 0x55aa11ee;

/** Where code can live: STM32/GD32/AT32 flash at 0x08000000, LPC176x/HC32 flash at 0x0. */
export interface CodeRegion {
  base: number;
  span: number;
  families: McuFamily[];
}
const REGIONS: CodeRegion[] = [
  { base: 0x08000000, span: 0x00200000, families: ['stm32'] },
  { base: 0x00000000, span: 0x00080000, families: ['lpc176x', 'hc32f460'] },
];

// RAM areas an initial stack pointer may point into (top of RAM included).
const RAM: [number, number][] = [
  [0x10000000, 0x10010000], // LPC176x local SRAM, STM32F4 CCM
  [0x1fff8000, 0x20200000], // HC32F460 SRAM, STM32 SRAM, LPC176x AHB SRAM
  [0x24000000, 0x24100000], // STM32H7 AXI SRAM
  [0x30000000, 0x30050000], // STM32H7 SRAM1-3
];

export function regionOf(addr: number): CodeRegion | undefined {
  return REGIONS.find((r) => addr >= r.base && addr < r.base + r.span);
}

function spValid(sp: number): boolean {
  return (sp & 3) === 0 && RAM.some(([lo, hi]) => sp > lo && sp <= hi);
}

export interface ParsedVectorTable extends VectorTableInfo {
  region: CodeRegion;
  /** Family suggested by the stack pointer and code region. */
  family: McuFamily | null;
}

/**
 * Parse the vector table at the start of `img`, or return null when it is not one.
 * `expectedEntries` (16 + IRQs of a known MCU) bounds the table; otherwise it runs until the
 * Klipper marker or the first word that is neither 0 nor a handler in the same region.
 */
export function parseVectorTable(img: Uint8Array, expectedEntries?: number): ParsedVectorTable | null {
  if (img.length < 64) return null;
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const w = (i: number) => v.getUint32(i * 4, true);
  const sp = w(0);
  const reset = w(1);
  if (!spValid(sp)) return null;
  const region = regionOf(reset);
  if (!region || (reset & 1) !== 1) return null;
  const isHandler = (x: number) => (x & 1) === 1 && x >= region.base && x < region.base + region.span;
  // NMI and HardFault are never reserved; MemManage..UsageFault may be 0 on Cortex-M0.
  if (!isHandler(w(2)) || !isHandler(w(3))) return null;
  for (const i of [4, 5, 6, 11, 14, 15]) if (w(i) !== 0 && !isHandler(w(i))) return null;

  const maxWords = Math.min(Math.floor(img.length / 4), 512);
  let entries = 16;
  let marker = false;
  for (let i = 16; i < maxWords; i++) {
    const x = w(i);
    if (x === KLIPPER_VECTOR_MARKER) {
      marker = true;
      entries = i + 1;
      break;
    }
    if (expectedEntries !== undefined) {
      if (i >= expectedEntries) break;
    } else if (x !== 0 && !isHandler(x)) break;
    entries = i + 1;
  }
  const handlers = new Set<number>();
  for (let i = 1; i < entries; i++) {
    const x = w(i);
    if (i === 7 || x === KLIPPER_VECTOR_MARKER) continue; // entry 7: LPC checksum slot
    if (isHandler(x)) handlers.add(x & ~1);
  }
  let family: McuFamily | null = null;
  if (region.base === 0x08000000) family = 'stm32';
  else if (sp > 0x10000000 && sp <= 0x10010000) family = 'lpc176x';
  else if (sp > 0x2007c000 && sp <= 0x20084000) family = 'lpc176x';
  else if (sp > 0x1fff8000 && sp <= 0x20027000) family = 'hc32f460';
  return {
    initialSp: sp,
    reset: reset & ~1,
    entries,
    handlers: [...handlers].sort((a, b) => a - b),
    klipperMarker: marker,
    region,
    family,
  };
}

/** LPC176x ROM rule: entries 0-7 sum to 0 (NXP UM10360 §32.3.1.1). */
export function lpcChecksumValid(img: Uint8Array): boolean {
  if (img.length < 32) return false;
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  let s = 0;
  for (let i = 0; i < 8; i++) s = (s + v.getUint32(i * 4, true)) >>> 0;
  return s === 0;
}

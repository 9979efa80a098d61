/**
 * Which flash address an image was linked for. A Cortex-M binary carries no header with
 * its link address, but every absolute address inside it is relative to that base:
 *  - every handler in the vector table must point into the image, past the table itself;
 *  - the literal pools of compiled code hold pointers to functions and constant data in
 *    the image; for the right base they all fall inside [base, base + size);
 *  - STM32 start-up code stores the base itself (SCB->VTOR = VectorTable, K-VTOR).
 * Candidates come from the bootloader-offset menu of the MCU (or its family). When the
 * signals leave more than one, all are reported rather than guessed.
 */
import { describeAppStart, familyMenu, hex, type McuFamily, type McuMemory } from './mcu-memory.js';
import type { ParsedVectorTable } from './vector-table.js';

export interface LinkAddressResult {
  flashStart: number | null;
  candidates: number[];
  /** Per-candidate evidence, for --verbose and tests. */
  evidence: { base: number; handlersInside: boolean; pointerRatio: number | null; vtorLiteral: boolean }[];
}

/** Aligned 32-bit words after the vector table that look like pointers into the code region. */
function pointerWords(img: Uint8Array, vt: ParsedVectorTable, flashBytes: number): number[] {
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const out: number[] = [];
  const lo = vt.region.base;
  const hi = vt.region.base + Math.min(flashBytes, vt.region.span);
  const lowRegion = lo === 0;
  for (let off = vt.entries * 4; off + 4 <= img.length; off += 4) {
    const x = v.getUint32(off, true);
    if (x < lo || x >= hi) continue;
    // At 0x0-based flash, small constants look like addresses: count only odd (Thumb
    // function) pointers above the first 4 KiB there.
    if (lowRegion && ((x & 1) === 0 || x < 0x1000)) continue;
    out.push(x);
  }
  return out;
}

function hasLiteral(img: Uint8Array, from: number, value: number): boolean {
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  for (let off = from; off + 4 <= img.length; off += 4) if (v.getUint32(off, true) === value) return true;
  return false;
}

export function determineLinkAddress(
  img: Uint8Array,
  vt: ParsedVectorTable,
  opts: { mem?: McuMemory; family?: McuFamily | null; /** Addresses a board's bootloader uses, tried with the menu. */ extra?: number[] } = {},
): LinkAddressResult {
  const size = img.length;
  const vtBytes = vt.entries * 4;
  const family = opts.mem?.family ?? opts.family ?? vt.family;
  const flashBytes = opts.mem?.flashBytes ?? vt.region.span;
  const menu = [...new Set([...(opts.mem ? opts.mem.menuOffsets : family ? familyMenu(family) : [vt.region.base]), ...(opts.extra ?? [])])]
    .filter((a) => a >= vt.region.base && a < vt.region.base + vt.region.span)
    .sort((a, b) => a - b);
  const handlersInside = (base: number) => vt.handlers.every((h) => h >= base + vtBytes && h < base + size);
  const ptrs = pointerWords(img, vt, flashBytes);
  const ratio = (base: number): number | null => {
    if (ptrs.length < 8) return null;
    let inside = 0;
    for (const p of ptrs) if (p >= base && p < base + size) inside++;
    return inside / ptrs.length;
  };
  const evidenceFor = (base: number) => ({
    base,
    handlersInside: handlersInside(base),
    pointerRatio: ratio(base),
    // At base 0 the literal 0 is everywhere: not evidence.
    vtorLiteral: base >= 0x1000 && hasLiteral(img, vtBytes, base),
  });

  let evidence = menu.map(evidenceFor);
  let feasible = evidence.filter((e) => e.handlersInside);
  if (feasible.length === 0) {
    // Not a menu address: try every 512-byte step the handlers allow (bounded).
    const maxH = vt.handlers.length ? vt.handlers[vt.handlers.length - 1]! : vt.reset;
    const minH = vt.handlers.length ? vt.handlers[0]! : vt.reset;
    const lo = Math.max(vt.region.base, Math.ceil((maxH - size + 1) / 0x200) * 0x200);
    const hi = Math.min(minH - vtBytes, vt.region.base + vt.region.span - 1);
    const grid: number[] = [];
    for (let b = lo; b <= hi && grid.length < 4096; b += 0x200) grid.push(b);
    evidence = grid.map(evidenceFor);
    feasible = evidence.filter((e) => e.handlersInside);
  }
  if (feasible.length <= 1) return { flashStart: feasible[0]?.base ?? null, candidates: feasible.map((e) => e.base), evidence };

  // Keep the candidates whose pointer evidence is (nearly) as good as the best.
  let best = feasible;
  const ratios = feasible.map((e) => e.pointerRatio).filter((r): r is number => r !== null);
  if (ratios.length) {
    const top = Math.max(...ratios);
    best = feasible.filter((e) => e.pointerRatio === null || e.pointerRatio >= top - 0.02);
  }
  if (best.length > 1) {
    const withVtor = best.filter((e) => e.vtorLiteral);
    if (withVtor.length === 1) best = withVtor;
  }
  return { flashStart: best.length === 1 ? best[0]!.base : null, candidates: best.map((e) => e.base), evidence };
}

/** "0x08008000 (32 KiB bootloader)" */
export function linkedForText(addr: number, family?: McuFamily | null): string {
  return `${hex(addr)} (${describeAppStart(addr, family ?? undefined)})`;
}

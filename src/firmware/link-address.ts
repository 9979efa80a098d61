/**
 * Which flash address an image was linked for. A Cortex-M binary carries no header with
 * its link address, but every absolute address inside it is relative to that base, so the
 * image itself is the evidence:
 *  - every handler in the vector table must point into the image, past the table itself;
 *  - the literal pools of compiled code hold pointers to functions and constant data in
 *    the image; for the right base they all fall inside [base, base + size];
 *  - STM32 start-up code stores the base itself (SCB->VTOR = VectorTable, K-VTOR).
 * Every base the vector-table alignment allows is tried, not only the menu of bootloader
 * offsets: the menu (Klipper's Kconfig for the MCU, or the board's stock address) only
 * breaks ties between bases the evidence cannot tell apart, and such an answer is never
 * called certain.
 */
import { describeAppStart, familyMenu, hex, type McuFamily, type McuMemory } from './mcu-memory.js';
import type { ParsedVectorTable } from './vector-table.js';

/**
 * certain: the evidence leaves one base (or one base stores itself as the VTOR literal);
 * likely: the evidence leaves several bases and exactly one is a menu address;
 * uncertain: no answer; `candidates` are what remains.
 */
export type LinkConfidence = 'certain' | 'likely' | 'uncertain';

export interface LinkEvidence {
  base: number;
  handlersInside: boolean;
  pointerRatio: number | null;
  vtorLiteral: boolean;
}

export interface LinkAddressResult {
  /** The address when certain or likely, else null. */
  flashStart: number | null;
  confidence: LinkConfidence;
  /** Bases still possible: [flashStart] when decided, several (or none) when uncertain. */
  candidates: number[];
  /** What decided it, in words ("VTOR literal", "pointers", "menu tie-break", …). */
  basis: string;
  /** Per-address evidence for the menu addresses and the best candidates (for --verbose and tests). */
  evidence: LinkEvidence[];
}

/** Share of in-region pointers a wrong base may lose and still count as "as good as the best". */
const RATIO_TOLERANCE = 0.02;
/** Below this many pointer-like words the pointer share is not judged. */
const MIN_POINTERS = 8;
const MAX_GRID = 16384;

/** Aligned 32-bit words after the vector table that look like pointers into the code region, sorted. */
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
  return out.sort((a, b) => a - b);
}

/** Number of sorted values < x. */
function below(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How many distinct Thumb function pointers (odd words) land on a function prologue
 * (`push {…}` 0xB4xx/0xB5xx, `push.w` 0xE92D, `stmdb sp!` ) if the image sits at `base`.
 * For the right base, compiled code's function pointers point at function starts; for a
 * base off by a few hundred bytes they point into the middle of instructions.
 */
function prologueHits(img: Uint8Array, fnPtrs: number[], base: number, vtBytes: number): number {
  let hits = 0;
  for (const p of fnPtrs) {
    const off = (p & ~1) - base;
    if (off < vtBytes || off + 2 > img.length) continue;
    const hw = img[off]! | (img[off + 1]! << 8);
    if ((hw & 0xfe00) === 0xb400 || hw === 0xe92d) hits++;
  }
  return hits;
}

function literalSet(img: Uint8Array, from: number): Set<number> {
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const s = new Set<number>();
  for (let off = from; off + 4 <= img.length; off += 4) s.add(v.getUint32(off, true));
  return s;
}

/** VTOR.TBLOFF needs the table aligned to its size rounded up to a power of two (min 128 B); 512 B covers every menu. */
function tableAlignment(vtBytes: number): number {
  let a = 0x80;
  while (a < vtBytes && a < 0x200) a *= 2;
  return a;
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
  const regionEnd = vt.region.base + vt.region.span;
  const menu = [...new Set([...(opts.mem ? opts.mem.menuOffsets : family ? familyMenu(family) : [vt.region.base]), ...(opts.extra ?? [])])]
    .filter((a) => a >= vt.region.base && a < regionEnd)
    .sort((a, b) => a - b);
  const handlersInside = (base: number) => vt.handlers.every((h) => h >= base + vtBytes && h < base + size);
  const ptrs = pointerWords(img, vt, flashBytes);
  const ratio = (base: number): number | null => {
    if (ptrs.length < MIN_POINTERS) return null;
    // The end address itself is allowed: linker symbols such as _data_flash / _etext point there.
    return (below(ptrs, base + size + 1) - below(ptrs, base)) / ptrs.length;
  };
  const literals = literalSet(img, vtBytes);
  const evidenceFor = (base: number): LinkEvidence => ({
    base,
    handlersInside: handlersInside(base),
    pointerRatio: ratio(base),
    // At base 0 the literal 0 is everywhere: not evidence.
    vtorLiteral: base >= 0x1000 && literals.has(base),
  });

  // Every aligned base the handlers allow, plus the menu addresses (a vendor address may be off-grid).
  const align = tableAlignment(vtBytes);
  const minH = vt.handlers.length ? vt.handlers[0]! : vt.reset;
  const maxH = vt.handlers.length ? vt.handlers[vt.handlers.length - 1]! : vt.reset;
  const lo = Math.max(vt.region.base, Math.ceil((maxH - size + 1) / align) * align);
  const hi = Math.min(minH - vtBytes, regionEnd - 1);
  const bases = new Set<number>(menu.filter(handlersInside));
  for (let b = lo; b <= hi && bases.size < MAX_GRID; b += align) bases.add(b);
  const feasible = [...bases].sort((a, b) => a - b).map(evidenceFor).filter((e) => e.handlersInside);
  const menuEvidence = menu.map(evidenceFor);
  const report = (best: LinkEvidence[]): LinkEvidence[] => {
    const seen = new Map<number, LinkEvidence>();
    for (const e of [...menuEvidence, ...best.slice(0, 16)]) seen.set(e.base, e);
    return [...seen.values()].sort((a, b) => a.base - b.base);
  };

  if (feasible.length === 0) return { flashStart: null, confidence: 'uncertain', candidates: [], basis: 'no base puts every vector-table handler inside the image', evidence: report([]) };

  // The evidence: keep the bases whose pointer share is (nearly) as good as the best.
  let best = feasible;
  const ratios = feasible.map((e) => e.pointerRatio).filter((r): r is number => r !== null);
  const judged = ratios.length > 0;
  if (judged) {
    const top = Math.max(...ratios);
    best = feasible.filter((e) => e.pointerRatio === null || e.pointerRatio >= top - RATIO_TOLERANCE);
  }
  const decided = (e: LinkEvidence, confidence: LinkConfidence, basis: string): LinkAddressResult => ({ flashStart: e.base, confidence, candidates: [e.base], basis, evidence: report(best) });

  if (best.length === 1 && judged) return decided(best[0]!, 'certain', 'vector table and literal-pool pointers');
  const withVtor = best.filter((e) => e.vtorLiteral);
  // In the 0x0-based region the address is also a plausible plain constant: proof only at 0x08000000.
  if (withVtor.length === 1 && vt.region.base !== 0) return decided(withVtor[0]!, 'certain', 'the address is stored as a literal (SCB->VTOR = VectorTable) and the pointers agree');
  // Function pointers landing on prologues: decisive when one base stands out clearly.
  const fnPtrs = [...new Set([...ptrs, ...vt.handlers.map((h) => h | 1)].filter((p) => (p & 1) === 1))];
  // In the 0x0 region small odd constants pass for pointers and can tip the share away from
  // the true base, so there the prologue count is asked of every feasible base.
  const pool0 = vt.region.base === 0 ? feasible : best;
  if (pool0.length > 1 && fnPtrs.length >= MIN_POINTERS) {
    const scored = pool0.map((e) => ({ e, hits: prologueHits(img, fnPtrs, e.base, vtBytes) })).sort((a, b) => b.hits - a.hits);
    const [first, second] = scored;
    if (first && second && first.hits >= MIN_POINTERS && first.hits >= 3 * Math.max(second.hits, 1)) {
      return decided(first.e, 'certain', `${first.hits} function pointers land on function prologues at this address (at most ${second.hits} at any other)`);
    }
  }
  if (withVtor.length === 1 && menu.includes(withVtor[0]!.base)) return decided(withVtor[0]!, 'likely', 'the address is stored as a literal and is a menu address');
  const inMenu = best.filter((e) => menu.includes(e.base));
  if (inMenu.length === 1) return decided(inMenu[0]!, 'likely', `the only ${opts.mem ? `${opts.mem.mcu} Kconfig` : 'menu'} address the evidence allows (${best.length} aligned bases fit)`);
  const pool = inMenu.length > 1 ? inMenu : best;
  // Many aligned bases fit and none is a menu entry: name the round ones first.
  const shown = inMenu.length > 1 ? pool : [...pool.filter((e) => e.base % 0x800 === 0), ...pool.filter((e) => e.base % 0x800 !== 0)].slice(0, 16).sort((a, b) => a.base - b.base);
  return { flashStart: null, confidence: 'uncertain', candidates: shown.map((e) => e.base), basis: `${pool.length} addresses fit the evidence`, evidence: report(best) };
}

/** "0x08008000 (32 KiB bootloader)" */
export function linkedForText(addr: number, family?: McuFamily | null): string {
  return `${hex(addr)} (${describeAppStart(addr, family ?? undefined)})`;
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// Every error code belongs to one family (one class), registered with its details in the
// <Family>Codes interfaces of src/errors.ts. This scans src/ for the places errors are made and
// fails when a code is thrown with another class than its family's, or not registered at all.

const SRC = join(process.cwd(), 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The registry: family class name → its codes, and the prefixes of its `prefix-${string}` codes. */
export function registry(errorsTs: string): Map<string, { codes: Set<string>; prefixes: string[] }> {
  const out = new Map<string, { codes: Set<string>; prefixes: string[] }>();
  for (const m of errorsTs.matchAll(/export interface (\w+)Codes \{/g)) {
    // The interface body, up to its closing brace (details types nest braces).
    let depth = 1;
    let end = m.index! + m[0].length;
    while (depth > 0 && end < errorsTs.length) depth += errorsTs[end] === '{' ? 1 : errorsTs[end] === '}' ? -1 : 0, end++;
    const body = errorsTs.slice(m.index! + m[0].length, end - 1).replace(/\/\*[\s\S]*?\*\//g, '');
    const codes = new Set([...body.matchAll(/^\s*'?([a-z0-9-]+)'?\??:/gm)].map((c) => c[1]!));
    const prefixes = [...body.matchAll(/\[\w+: `([a-z0-9-]+)\$\{string\}`\]/g)].map((c) => c[1]!);
    out.set(`${m[1]}Error`, { codes, prefixes });
  }
  return out;
}

export interface ThrowSite {
  file: string;
  cls: string;
  code: string;
  /** A code built at run time: only its literal prefix is known. */
  prefix: boolean;
}

/**
 * Where errors of a family are made in one source file: `new XError('code'`, both arms of a
 * `new XError(c ? 'a' : 'b'`, `new XError(\`prefix-${…}\``, `super('code'` in a subclass, and the
 * calls of factories that pass their `code` parameter to a family class (`sdError('sd-…'`).
 */
export function throwSites(file: string, text: string, families: Set<string>, factories: Map<string, string>): ThrowSite[] {
  const out: ThrowSite[] = [];
  const add = (cls: string, code: string, prefix = false) => families.has(cls) && out.push({ file, cls, code, prefix });
  for (const m of text.matchAll(/new (\w+)\(\s*'([a-z0-9-]+)'/g)) add(m[1]!, m[2]!);
  for (const m of text.matchAll(/new (\w+)\(\s*[\w.!]+ (?:===? [^?]+)?\?\s*'([a-z0-9-]+)'\s*:\s*'([a-z0-9-]+)'/g)) {
    add(m[1]!, m[2]!);
    add(m[1]!, m[3]!);
  }
  for (const m of text.matchAll(/new (\w+)\(\s*(?:`([a-z0-9-]+)\$\{|'([a-z0-9-]+)' \+)/g)) add(m[1]!, (m[2] ?? m[3])!, true);
  for (const m of text.matchAll(/class \w+ extends (\w+) \{[\s\S]*?super\(\s*'([a-z0-9-]+)'/g)) add(m[1]!, m[2]!);
  for (const [fn, cls] of factories) for (const m of text.matchAll(new RegExp(`\\b${fn}\\(\\s*'([a-z0-9-]+)'`, 'g'))) add(cls, m[1]!);
  return out;
}

/** Functions that make an error of a family from a `code` parameter: `function f(code: …) … new XError(code`. */
export function factoriesIn(text: string, families: Set<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/function (\w+)\(code: [^)]*\)[^{]*\{[^}]*?new (\w+)\(code\b/g)) if (families.has(m[2]!)) out.set(m[1]!, m[2]!);
  return out;
}

/** Every way a site disagrees with the registry, in words. */
export function violations(sites: ThrowSite[], reg: ReturnType<typeof registry>): string[] {
  const familyOf = (code: string, prefix: boolean): string[] =>
    [...reg].filter(([, r]) => (prefix ? r.prefixes.includes(code) : r.codes.has(code) || r.prefixes.some((p) => code.startsWith(p)))).map(([cls]) => cls);
  const out: string[] = [];
  for (const s of sites) {
    const fam = familyOf(s.code, s.prefix);
    const shown = s.prefix ? `${s.code}…` : s.code;
    if (fam.length === 0) out.push(`${s.file}: '${shown}' (${s.cls}) is not registered in src/errors.ts: add it to ${s.cls.replace(/Error$/, 'Codes')}`);
    else if (!fam.includes(s.cls)) out.push(`${s.file}: '${shown}' is thrown as ${s.cls}, but it belongs to ${fam.join(', ')}`);
  }
  const seen = new Map<string, string>();
  for (const [cls, r] of reg) {
    for (const c of r.codes) {
      if (seen.has(c)) out.push(`'${c}' is registered in both ${seen.get(c)} and ${cls}`);
      seen.set(c, cls);
    }
  }
  return out;
}

function scanSrc(): { sites: ThrowSite[]; reg: ReturnType<typeof registry> } {
  const reg = registry(readFileSync(join(SRC, 'errors.ts'), 'utf8'));
  const families = new Set(reg.keys());
  const files = tsFiles(SRC).map((p) => ({ file: relative(process.cwd(), p), text: readFileSync(p, 'utf8') }));
  const factories = new Map(files.flatMap((f) => [...factoriesIn(f.text, families)]));
  return { sites: files.flatMap((f) => throwSites(f.file, f.text, families, factories)), reg };
}

describe('every error code belongs to one class', () => {
  it('src/ throws each code only with the class its family registers', () => {
    const { sites, reg } = scanSrc();
    // The scan must see the codebase: families, the filesystem errors, the SD card's codes.
    expect([...reg.keys()].sort()).toEqual(['DeviceError', 'FormatError', 'IoError', 'SafetyError', 'UsageError', 'VerifyError']);
    expect(sites.length).toBeGreaterThan(150);
    expect(sites.filter((s) => s.code.startsWith('sd-')).length).toBeGreaterThan(20);
    expect(new Set(sites.map((s) => s.code)).size).toBeGreaterThan(110);
    expect(violations(sites, reg)).toEqual([]);
  });

  it('the scan catches a code thrown with a second class, an unregistered code and a double registration', () => {
    const reg = registry(`export interface IoCodes {\n  'read-only': PathDetails;\n  /** x */\n  [k: \`sd-\${string}\`]: X;\n}\nexport interface SafetyCodes {\n  mounted: { path: string };\n  'read-only': NoDetails;\n}`);
    const families = new Set(reg.keys());
    const src = [
      "throw new SafetyError('mounted', 'x');",
      "throw new IoError('mounted', `y`);",
      "throw new IoError(fs === 'exFAT' ? 'card-exfat' : 'read-only', 'z');",
      'class Lost extends IoError {\n  constructor() {\n    super(\'sd-lost\', \'w\');\n  }\n}',
      'export function sdError(code: SdErrorCode, message: string): IoError {\n  return new IoError(code, message);\n}',
      "throw sdError('sd-no-card', 'n');",
      'throw new SafetyError(`sd-${what}`, "p");',
    ].join('\n');
    const factories = factoriesIn(src, families);
    expect([...factories]).toEqual([['sdError', 'IoError']]);
    const sites = throwSites('x.ts', src, families, factories);
    expect(sites.map((x) => `${x.cls} ${x.code}${x.prefix ? '…' : ''}`).sort()).toEqual(
      ['IoError card-exfat', 'IoError mounted', 'IoError read-only', 'IoError sd-lost', 'IoError sd-no-card', 'SafetyError mounted', 'SafetyError sd-…'].sort(),
    );
    expect(violations(sites, reg)).toEqual([
      "x.ts: 'mounted' is thrown as IoError, but it belongs to SafetyError",
      "x.ts: 'card-exfat' (IoError) is not registered in src/errors.ts: add it to IoCodes",
      "x.ts: 'sd-…' is thrown as SafetyError, but it belongs to IoError",
      "'read-only' is registered in both IoError and SafetyError",
    ]);
  });
});

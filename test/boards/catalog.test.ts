import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import type { Board, Sourced } from '../../src/boards/types.js';
import { resolveSource, SOURCES } from '../../src/boards/sources.js';
import { mcuMemory } from '../../src/firmware/mcu-memory.js';
import { KLIPPER_ALIASES, KLIPPER_DEFS, KLIPPER_LIST_BOARDS } from './klipper-board-defs.js';

const catalog = loadCatalog({ noUserConfig: true });
const FACTS = ['appStart', 'flashBytes', 'bootloaderBus', 'folder', 'firmwareName', 'uniqueName', 'caseSensitive', 'readsLongNames', 'afterFlash', 'card', 'conversion', 'bootloaderImage'] as const;

// Keys listed in docs/sources.md: "* KEY: …" lines; "K-cfg x" is resolved by its pattern.
const sourcesDoc = readFileSync(new URL('../../docs/sources.md', import.meta.url), 'utf8');
const DOC_KEYS = new Set([...sourcesDoc.matchAll(/^\s*\* ([A-Za-z0-9-]+(?: \/ [A-Za-z0-9-]+)?)(?: \*\(fwcard\)\*)?:/gm)].flatMap((m) => m[1]!.split(' / ')));
const keyKnown = (k: string) => resolveSource(k) !== null && (DOC_KEYS.has(k) || /^K-cfg [A-Za-z0-9.-]+$/.test(k));

// Pin names: STM32 "PA4", LPC "P0.6".
const PIN = /^(P[A-K](1[0-5]|[0-9])|P[0-4]\.([0-9]|[12][0-9]|3[01]))$/;

describe('catalog schema', () => {
  it('has Klipper list_boards() = 73 names and every one resolves', () => {
    expect(KLIPPER_LIST_BOARDS).toHaveLength(73);
    for (const name of KLIPPER_LIST_BOARDS) expect(catalog.find(name), name).toBeDefined();
  });

  it('gives every Klipper name exactly the definition board_defs.py gives it (aliases stay aliases)', () => {
    const all: [string, string][] = [...Object.keys(KLIPPER_DEFS).map((d) => [d, d] as [string, string]), ...Object.entries(KLIPPER_ALIASES)];
    for (const [name, def] of all) {
      const b = catalog.get(name);
      const want = KLIPPER_DEFS[def]!;
      const k = b.klipper;
      expect(k, name).toBeDefined();
      expect(k!.definition, name).toBe(def);
      expect(k!.mcu, name).toBe(want.mcu);
      expect(k!.csPin, name).toBe(want.csPin);
      if (want.spiBus === 'swspi') {
        expect(k!.bus, name).toEqual({ kind: 'swspi', ...(() => { const [miso, mosi, sclk] = want.spiPins!.split(','); return { miso, mosi, sclk }; })() });
      } else expect(k!.bus, name).toEqual({ kind: 'spi', bus: want.spiBus });
      expect(k!.firmwarePath, name).toBe(want.firmwarePath ?? 'firmware.bin');
      expect(k!.currentFirmwarePath, name).toBe(want.currentFirmwarePath ?? 'firmware.cur');
      expect(k!.skipVerify, name).toBe(want.skipVerify ?? false);
      expect(k!.requiresUniqueFwName, name).toBe(want.requiresUniqueFwName ?? false);
      expect(k!.conversion, name).toBe(want.conversion);
    }
  });

  it('uses each Klipper definition name as a catalog entry name (not only as an alias)', () => {
    for (const def of Object.keys(KLIPPER_DEFS)) expect(catalog.get(def).name).toBe(def);
  });

  it('has no name or alias twice', () => {
    const seen = new Map<string, string>();
    for (const b of catalog.all()) {
      for (const n of [b.name, ...b.aliases]) {
        const k = n.toLowerCase();
        expect(seen.get(k), `${n} in ${b.name} and ${seen.get(k)}`).toBeUndefined();
        seen.set(k, b.name);
      }
    }
  });

  it('has well-formed pins and buses in every Klipper definition', () => {
    for (const b of catalog.all()) {
      const k = b.klipper;
      if (!k) continue;
      if (k.csPin !== undefined) expect(k.csPin, b.name).toMatch(PIN);
      if (k.bus.kind === 'swspi') for (const p of [k.bus.miso, k.bus.mosi, k.bus.sclk]) expect(p, b.name).toMatch(PIN);
      else expect(k.bus.bus, b.name).toMatch(/^(ssp[01]|spi[1-6][a-d]?|sdio)$/);
      expect(mcuMemory(k.mcu), `${b.name}: klipper mcu ${k.mcu}`).toBeDefined();
    }
  });

  it('has a known MCU, a kebab-case name and application addresses inside that MCU’s flash', () => {
    for (const b of catalog.all()) {
      expect(b.name, 'name').toMatch(/^[a-z0-9][a-z0-9._-]*$/);
      const mem = mcuMemory(b.mcu);
      expect(mem, `${b.name}: mcu ${b.mcu}`).toBeDefined();
      for (const a of b.appStart.value) {
        expect(a, b.name).toBeGreaterThanOrEqual(mem!.flashBase);
        expect(a, b.name).toBeLessThan(mem!.flashBase + mem!.flashBytes);
        expect(a % 0x200, `${b.name} ${a.toString(16)} not 512-aligned`).toBe(0);
      }
      if (b.firmwareName.value !== '*.bin') expect(b.firmwareName.value, b.name).toMatch(/^[A-Za-z0-9_.-]+\.(bin|cbd)$/);
      expect(b.folder.value, b.name).toMatch(/^[A-Za-z0-9_]*$/);
      expect(b.card.value.fileSystems.length, b.name).toBeGreaterThan(0);
    }
  });

  it('gives every fact a confidence, and a source unless it is unverified (then a note)', () => {
    for (const b of catalog.all()) {
      for (const key of FACTS) {
        const f = (b as unknown as Record<string, Sourced<unknown> | undefined>)[key];
        if (f === undefined) continue;
        const where = `${b.name}.${key}`;
        expect(['verified', 'inferred', 'unverified'], where).toContain(f.confidence);
        if (f.confidence === 'unverified') expect(f.sources.length > 0 || (f.note ?? '').length > 0, where).toBe(true);
        else expect(f.sources.length, where).toBeGreaterThan(0);
        if (f.confidence === 'inferred') expect((f.note ?? '').length > 0 || f.sources.length > 0, where).toBe(true);
        for (const s of f.sources) expect(keyKnown(s), `${where}: source key "${s}" not in docs/sources.md`).toBe(true);
      }
    }
  });

  it('resolves the same source keys in code (fwcard boards <name>) as in docs/sources.md', () => {
    expect(new Set(Object.keys(SOURCES))).toEqual(DOC_KEYS);
    expect(resolveSource('K-cfg octopus-v1.1')).toBe('Klipper config/*octopus-v1.1*.cfg (the generic-… or printer-… file), header comment');
    expect(resolveSource('NO-SUCH-KEY')).toBeNull();
  });

  it('cites only sources a reader can open: no "boards.md" (research notes not in the repository; issue 16)', () => {
    const shown = JSON.stringify(catalog.all()) + JSON.stringify(SOURCES);
    expect(shown).not.toMatch(/boards\.md/);
    for (const f of readdirSync(new URL('../../src/boards/data/', import.meta.url))) {
      expect(readFileSync(new URL(`../../src/boards/data/${f}`, import.meta.url), 'utf8'), f).not.toMatch(/boards\.md/);
    }
    expect(sourcesDoc).not.toMatch(/boards\.md/);
    // The note that cited it names its real source instead.
    expect((catalog.get('generic-lpc1768')!.notes ?? []).join(' ')).toMatch(/https:\/\/github\.com\/makerbase-mks\/MKS-SBASE\/issues\/2/);
  });

  it('agrees with its own Klipper definition on conversion and unique names', () => {
    for (const b of catalog.all()) {
      if (b.klipper?.conversion) expect(b.conversion?.value, b.name).toBe(b.klipper.conversion);
      if (b.klipper?.requiresUniqueFwName && b.klipper.definition === b.name) expect(b.uniqueName.value, b.name).toBe(true);
    }
  });

  it('contains the stock SD-bootloader boards beyond Klipper’s list', () => {
    for (const q of ['manta m8p', 'manta m5p', 'ender-3 s1', 'robin nano v1.3', 'robin nano v3', 'monster8', 'neptune', 'sv06', 'vyper', 'kobra', 'sidewinder x3', 'crux1', 'alfawise', 'lk4', 'aquila', 'ender-2 pro']) {
      expect(catalog.search(q).length, q).toBeGreaterThan(0);
    }
  });
});

describe('catalog lookup', () => {
  it('is case-insensitive and keeps the entry for an alias', () => {
    expect(catalog.get('BTT-Octopus-Pro-F446-v1.0').name).toBe('btt-octopus-f446-v1');
    expect(catalog.get('robin_v3').klipper?.definition).toBe('monster8');
  });

  it('suggests close names for an unknown board', () => {
    let err: unknown;
    try {
      catalog.get('btt-octopus-f446');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'unknown-board' });
    const sugg = (err as { details: { suggestions: string[] } }).details.suggestions;
    expect(sugg).toContain('btt-octopus-f446-v1');
    expect(() => catalog.get('octopuss-f446-v1')).toThrow(/unknown board/);
    try {
      catalog.get('btt-skr-mini-e3-v4');
    } catch (e) {
      expect((e as { details: { suggestions: string[] } }).details.suggestions.length).toBeGreaterThan(0);
    }
  });

  it('searches names, aliases, vendors, models and MCUs', () => {
    expect(catalog.search('octopus f446').map((b) => b.name)).toContain('btt-octopus-f446-v1');
    expect(catalog.search('lpc1769').map((b) => b.name)).toContain('generic-lpc1769');
    expect(catalog.search('smoothieboard').map((b) => b.name)).toEqual(['generic-lpc1769']);
    expect(catalog.search('qidi').length).toBe(2);
    expect(catalog.search('Ender-3 V2').map((b) => b.name)).toContain('creality-v4.2.2');
    expect(catalog.search('no such board xyz')).toEqual([]);
    expect(catalog.search('')).toHaveLength(catalog.all().length);
  });
});

describe('user boards file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fwcard-boards-'));
  const write = (name: string, doc: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return p;
  };

  it('adds a new board, with plain values recorded as unverified from the file', () => {
    const p = write('new.json', {
      boards: [{ name: 'my-board', vendor: 'Me', mcu: 'stm32f446xx', appStart: '0x08010000', firmwareName: 'klipper.bin', klipper: { mcu: 'stm32f446xx', spi_bus: 'spi2', cs_pin: 'PB12' } }],
    });
    const c = loadCatalog({ boardsFile: p, noUserConfig: true });
    const b: Board = c.get('my-board');
    expect(b.appStart).toEqual({ value: [0x08010000], confidence: 'unverified', sources: [`user:${p}`] });
    expect(b.klipper).toMatchObject({ mcu: 'stm32f446xx', bus: { kind: 'spi', bus: 'spi2' }, csPin: 'PB12', firmwarePath: 'firmware.bin' });
    expect(b.origin).toBe(p);
    expect(c.all().length).toBe(catalog.all().length + 1);
  });

  it('overrides facts of a known board by name or alias and keeps the rest', () => {
    const p = write('override.json', [{ name: 'btt-octopus-pro-f446-v1.0', firmwareName: { value: 'klipper.bin', confidence: 'verified', sources: ['my bench'] } }]);
    const c = loadCatalog({ boardsFile: p, noUserConfig: true });
    const b = c.get('btt-octopus-f446-v1');
    expect(b.firmwareName).toEqual({ value: 'klipper.bin', confidence: 'verified', sources: ['my bench'] });
    expect(b.appStart.value).toEqual([0x08008000]);
    expect(c.get('btt-octopus-f446-v1.1')).toBe(b);
    expect(c.all().length).toBe(catalog.all().length);
  });

  it('extends a known board under a new name', () => {
    const p = write('extends.json', { boards: [{ name: 'octopus-64k', extends: 'btt-octopus-f446-v1', appStart: [0x08010000] }] });
    const c = loadCatalog({ boardsFile: p, noUserConfig: true });
    expect(c.get('octopus-64k').appStart.value).toEqual([0x08010000]);
    expect(c.get('octopus-64k').mcu).toBe('stm32f446xx');
    expect(c.get('btt-octopus-f446-v1').appStart.value).toEqual([0x08008000]);
  });

  it('rejects a malformed file with a typed error naming the entry', () => {
    expect(() => loadCatalog({ boardsFile: write('bad1.json', '{ nope'), noUserConfig: true })).toThrow(expect.objectContaining({ code: 'bad-boards-file' }));
    expect(() => loadCatalog({ boardsFile: write('bad2.json', { boards: [{ name: 'x', mcu: 'stm32f446xx' }] }), noUserConfig: true })).toThrow(/boards\[0\]\.appStart: required/);
    expect(() => loadCatalog({ boardsFile: write('bad3.json', { boards: [{ name: 'x', mcu: 'stm32f446xx', appStart: 'soon', firmwareName: 'a.bin' }] }), noUserConfig: true })).toThrow(/appStart/);
    expect(() => loadCatalog({ boardsFile: write('bad4.json', { boards: [{ name: 'btt-gtr', colour: 'red' }] }), noUserConfig: true })).toThrow(/unknown key/);
    expect(() => loadCatalog({ boardsFile: join(dir, 'missing.json'), noUserConfig: true })).toThrow(expect.objectContaining({ code: 'not-found' }));
    expect(() => loadCatalog({ boardsFile: write('bad5.json', { boards: [{ name: 'x', mcu: 'stm32f446xx', appStart: 0x08008000, firmwareName: 'a.bin', klipper: { mcu: 'stm32f446xx', spi_bus: 'swspi', spi_pins: 'PC8,PD2,C12', cs_pin: 'PC11' } }] }), noUserConfig: true })).toThrow(/spi_pins: "C12" is not a pin name/);
    expect(() => loadCatalog({ boardsFile: write('bad6.json', { boards: [{ name: 'x', mcu: 'stm32f446xx', appStart: 0x08008000, firmwareName: 'a.bin', klipper: { mcu: 'stm32f446xx', spi_bus: 'spi1', cs_pin: 'PA16' } }] }), noUserConfig: true })).toThrow(/cs_pin/);
  });
});

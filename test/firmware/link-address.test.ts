import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { MCU_MEMORY, mcuMemory } from '../../src/firmware/mcu-memory.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { catalog, errors } from './helpers.js';

// Every "Bootloader offset" entry of Klipper's STM32 and LPC176x menus (K-KC, K-KCL), and
// the HC32F460 application addresses (K-KCH), for every MCU that offers it.
const MENU_CASES = MCU_MEMORY.flatMap((m) => m.menuOffsets.map((base) => ({ mcu: m.mcu, base, mem: m })));

function sizeFor(mem: (typeof MCU_MEMORY)[number], base: number): number {
  const room = mem.flashBase + mem.flashBytes - base;
  return Math.min(40000, Math.floor(room * 0.6));
}

describe('link address over every bootloader-offset menu entry', () => {
  it('covers the menus it claims to', () => {
    const stm32 = new Set(MENU_CASES.filter((c) => c.mem.family === 'stm32').map((c) => c.base));
    for (const a of [0x08000000, 0x08000800, 0x08001000, 0x08002000, 0x08004000, 0x08005000, 0x08007000, 0x08008000, 0x08008800, 0x08009000, 0x0800c000, 0x08010000, 0x08020000, 0x08020200]) {
      expect(stm32.has(a), a.toString(16)).toBe(true);
    }
    expect(MENU_CASES.filter((c) => c.mem.family === 'lpc176x').map((c) => c.base)).toEqual([0x0, 0x4000, 0x0, 0x4000]);
  });

  for (const { mcu, base, mem } of MENU_CASES) {
    for (const klipper of [true, false]) {
      it(`${mcu} linked at 0x${base.toString(16)} ${klipper ? 'Klipper' : 'plain'} build`, () => {
        const fw = makeSyntheticFirmware({ mcu, flashStart: base, size: sizeFor(mem, base), klipper, seed: base ^ mcu.length });
        const r = inspectFirmware(fw.bytes);
        expect(r.kind).toBe('cortex-m');
        expect(r.flashStart).toBe(base);
        expect(r.candidates).toEqual([base]);
        expect(r.family).toBe(mem.family);
        expect(r.mcu).toBe(klipper ? mcu : null);
        expect(errors(r)).toEqual([]);
        if (klipper) expect(r.vectorTable?.klipperMarker).toBe(true);
      });
    }
  }

  it('finds the address without the VTOR literal, from handlers and pointers alone', () => {
    for (const base of [0x08007000, 0x08008000, 0x0800c000, 0x08010000]) {
      const fw = makeSyntheticFirmware({ mcu: 'stm32f407xx', flashStart: base, size: 50000, vtorLiteral: false, seed: 3 });
      expect(inspectFirmware(fw.bytes).flashStart).toBe(base);
    }
  });

  it('finds any menu address for random images (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MENU_CASES), fc.integer({ min: 6000, max: 60000 }), fc.integer(), fc.boolean(), (c, size, seed, klipper) => {
        const fw = makeSyntheticFirmware({ mcu: c.mcu, flashStart: c.base, size: Math.min(size, sizeFor(c.mem, c.base)), seed, klipper });
        return inspectFirmware(fw.bytes).flashStart === c.base;
      }),
      { numRuns: 60 },
    );
  });

  it('reports a vendor address outside Klipper’s menu (JGAurora 0x0800A000) when a board names it', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x0800a000, size: 30000, seed: 10 });
    expect(inspectFirmware(fw.bytes).flashStart).toBe(0x0800a000); // found on the 512-byte grid
  });

  it('says which candidates remain when the image cannot tell them apart', () => {
    // Only a vector table whose handlers sit 66 KiB in, and erased flash: no pointers, no VTOR literal.
    const mem = mcuMemory('stm32f446xx')!;
    const img = new Uint8Array(0x10000).fill(0xff);
    const v = new DataView(img.buffer);
    v.setUint32(0, 0x20020000, true);
    for (let i = 1; i < 16 + mem.irqCount; i++) v.setUint32(i * 4, [7, 8, 9, 10, 13].includes(i) ? 0 : 0x08010801, true);
    const r = inspectFirmware(img);
    expect(r.flashStart).toBeNull();
    // Any STM32 menu address from which both the table and the handler fit in 64 KiB.
    expect(r.candidates).toEqual([0x08001000, 0x08002000, 0x08004000, 0x08005000, 0x08007000, 0x08008000, 0x08008800, 0x08009000, 0x0800c000, 0x08010000]);
    expect(r.findings.map((f) => f.id)).toContain('link-address-ambiguous');
    // Against a board whose address is among them: a warning, not an error.
    const rb = inspectFirmware(img, { board: catalog.get('btt-octopus-f446-v1') });
    expect(errors(rb)).toEqual([]);
    // Knowing the MCU (Klipper dictionary) narrows it to that MCU's menu: F446 offers 0/32/64 KiB.
    const dict = makeSyntheticFirmware({ mcu: 'stm32f446xx', klipper: true }).dictionaryJson!;
    img.set(deflateSync(Buffer.from(dict), { level: 9 }), 0x9000);
    const rk = inspectFirmware(img);
    expect(rk.mcu).toBe('stm32f446xx');
    expect(rk.flashStart).toBeNull();
    expect(rk.candidates).toEqual([0x08008000, 0x08010000]);
    // A board expecting neither gets an error naming the candidates.
    const rw = inspectFirmware(img, { board: catalog.get('btt-skr-3-h723') });
    expect(errors(rw)).toContain('wrong-offset');
  });
});

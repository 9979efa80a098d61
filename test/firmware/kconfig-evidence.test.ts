/**
 * Klipper's Kconfig menus per MCU (src/stm32/Kconfig, src/lpc176x/Kconfig,
 * src/hc32f460/Kconfig at commit 84104bbbd), and link-address detection that lets the
 * image's evidence decide, with the menu only breaking ties.
 */
import { describe, expect, it } from 'vitest';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { MCU_MEMORY, mcuMemory } from '../../src/firmware/mcu-memory.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { catalog, errors, ids } from './helpers.js';

const KIB = 1024;
// Transcribed from the "Bootloader offset" choice of Klipper's src/stm32/Kconfig L290-338: each
// entry's `if` names the Kconfig symbols; MACH_STM32F4x5 is selected by F405, F407 and F429.
const KCONFIG_MENUS: Record<string, number[]> = {
  stm32f103xe: [0, 2, 4, 8, 16, 20, 28, 32, 34, 36, 64],
  stm32f401xc: [0, 16, 32, 48, 64],
  stm32f405xx: [0, 16, 32, 48, 64, 128.5],
  stm32f407xx: [0, 16, 32, 48, 64, 128.5],
  stm32f429xx: [0, 16, 32, 48, 64, 128.5],
  stm32f446xx: [0, 32, 64],
  stm32g0b0xx: [0, 8],
  stm32g0b1xx: [0, 8],
  stm32h723xx: [0, 128],
  stm32h743xx: [0, 128],
  lpc1768: [0, 16],
  lpc1769: [0, 16],
  hc32f460: [32, 48, 64], // "Application Address" 0x008000/0x00C000/0x010000, no "No bootloader"
};

describe('Kconfig facts for every MCU in the catalog', () => {
  const catalogMcus = [...new Set(catalog.all().map((b) => b.mcu))].sort();

  it('every catalog MCU has a memory map with its Kconfig menu, cited', () => {
    for (const mcu of catalogMcus) {
      const m = mcuMemory(mcu);
      expect(m, mcu).toBeDefined();
      expect(m!.kconfig.commit).toBe('84104bbbd');
      expect(m!.kconfig.file).toBe(m!.family === 'stm32' ? 'src/stm32/Kconfig' : m!.family === 'lpc176x' ? 'src/lpc176x/Kconfig' : 'src/hc32f460/Kconfig');
      expect(KCONFIG_MENUS[mcu], `${mcu} is transcribed in this test`).toBeDefined();
      expect(m!.menuOffsets.map((a) => (a - m!.flashBase) / KIB), mcu).toEqual(KCONFIG_MENUS[mcu]);
    }
  });

  it('the F429 has the F4x5 menu (16/48 KiB, 128 KiB + 512), not the F446 one', () => {
    expect(mcuMemory('stm32f429xx')!.menuOffsets).toEqual(mcuMemory('stm32f407xx')!.menuOffsets);
    expect(mcuMemory('stm32f429xx')!.menuOffsets).toContain(0x08004000);
    expect(mcuMemory('stm32f446xx')!.menuOffsets).not.toContain(0x08004000);
  });

  it('flash start and Klipper FLASH_SIZE are kept per MCU', () => {
    for (const m of MCU_MEMORY) {
      expect(m.flashBase).toBe(m.family === 'stm32' ? 0x08000000 : 0);
      expect(m.kconfigFlashBytes).toBeGreaterThan(0);
      expect(m.kconfigFlashBytes).toBeLessThanOrEqual(m.flashBytes);
    }
    expect(mcuMemory('stm32f429xx')!.kconfigFlashBytes).toBe(0x80000);
    expect(mcuMemory('stm32h723xx')!.kconfigFlashBytes).toBe(0x40000);
  });
});

/** A synthetic image whose every vector points at one function far into the image, as Klipper's mostly do. */
function lateHandlers(mcu: string, base: number, size: number, opts: { vtorLiteral?: boolean } = {}) {
  const fw = makeSyntheticFirmware({ mcu, flashStart: base, size, klipper: true, seed: 7, ...opts });
  const v = new DataView(fw.bytes.buffer, fw.bytes.byteOffset);
  const late = (base + fw.layout.codeEnd - 0x400) | 1;
  for (let i = 1; i < fw.layout.vectorTableBytes / 4 - 1; i++) if (v.getUint32(i * 4, true) !== 0) v.setUint32(i * 4, late, true);
  return fw;
}

describe('evidence decides the link address', () => {
  it('without a VTOR literal (LPC176x, HC32F460 builds), function pointers landing on prologues decide', () => {
    for (const [mcu, base] of [['lpc1769', 0x4000], ['lpc1768', 0x0], ['hc32f460', 0xc000], ['stm32f407xx', 0x0800c000]] as const) {
      const fw = lateHandlers(mcu, base, 50000, { vtorLiteral: false });
      const r = inspectFirmware(fw.bytes);
      expect(r.linkAddress, mcu).toMatchObject({ value: base, confidence: 'certain' });
      expect(r.linkAddress.basis, mcu).toMatch(/prologues|pointers/);
    }
  });

  it('an F429 16 KiB build is 16 KiB, and the Octopus F429 (32 KiB) refuses it', () => {
    const fw = lateHandlers('stm32f429xx', 0x08004000, 60000);
    const r = inspectFirmware(fw.bytes);
    expect(r.linkAddress).toMatchObject({ value: 0x08004000, confidence: 'certain' });
    const rb = inspectFirmware(fw.bytes, { board: catalog.get('btt-octopus-f429-v1') });
    expect(errors(rb)).toEqual(['wrong-offset']);
    expect(rb.findings.find((f) => f.id === 'wrong-offset')!.message).toMatch(/^linked for 0x08004000 \(16 KiB bootloader\)/);
  });

  it('finds an address outside every menu from the evidence (not a silent menu guess)', () => {
    const fw = lateHandlers('stm32f446xx', 0x08004000, 60000); // 16 KiB is not in the F446 menu
    const r = inspectFirmware(fw.bytes);
    expect(r.linkAddress).toMatchObject({ value: 0x08004000, confidence: 'certain' });
    expect(errors(inspectFirmware(fw.bytes, { board: catalog.get('btt-octopus-f446-v1') }))).toEqual(['wrong-offset']);
  });

  it('without the VTOR literal and with weak pointers: "likely" or "uncertain", and a warning for a board that expects it', () => {
    const img = lateHandlers('stm32f429xx', 0x08008000, 60000, { vtorLiteral: false }).bytes;
    // Weaken the pointer evidence: drop every literal that points into the image's first 48 KiB.
    const v = new DataView(img.buffer, img.byteOffset);
    for (let off = 0x200; off + 4 <= img.length; off += 4) {
      const x = v.getUint32(off, true);
      if (x >= 0x08000000 && x < 0x08008000 + 48 * KIB) v.setUint32(off, 0x2000_0100, true);
    }
    // …and the function prologues (push {r4-r7, lr}) the remaining function pointers land on.
    for (let off = 0; off + 2 <= img.length; off += 2) if (v.getUint16(off, true) === 0xb5f0) v.setUint16(off, 0x4600, true);
    const r = inspectFirmware(img);
    expect(r.linkAddress.confidence).not.toBe('certain');
    if (r.linkAddress.value === null) expect(r.linkAddress.candidates).toContain(0x08008000);
    else expect(r.linkAddress.value).toBe(0x08008000);
    const rb = inspectFirmware(img, { board: catalog.get('btt-octopus-f429-v1') });
    expect(errors(rb)).toEqual([]);
    expect(ids(rb, 'warning')).toContain('link-address-unconfirmed');
    const f = rb.findings.find((x) => x.id === 'link-address-unconfirmed')!;
    expect(f.hint).toMatch(/"32KiB bootloader"/);
  });
});

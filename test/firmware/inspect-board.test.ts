import { describe, expect, it } from 'vitest';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { catalog, errors, ids } from './helpers.js';

const octopus = catalog.get('btt-octopus-f446-v1');
const f446 = (flashStart: number, extra: Partial<Parameters<typeof makeSyntheticFirmware>[0]> = {}) =>
  makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart, size: 45000, klipper: true, seed: 1, ...extra }).bytes;

describe('inspection against a board', () => {
  it('accepts a matching build with no error or warning', () => {
    const r = inspectFirmware(f446(0x08008000), { board: octopus });
    expect(r.board).toBe('btt-octopus-f446-v1');
    expect(ids(r, 'error')).toEqual([]);
    expect(ids(r, 'warning')).toEqual([]);
    expect(r.linkedFor).toBe('0x08008000 (32 KiB bootloader)');
  });

  it('explains a "No bootloader" build in the user’s words', () => {
    const r = inspectFirmware(f446(0x08000000), { board: octopus });
    expect(errors(r)).toEqual(['no-bootloader-build']);
    const f = r.findings.find((x) => x.id === 'no-bootloader-build')!;
    expect(f.message).toMatch(/built with "No bootloader"/);
    expect(f.message).toMatch(/overwrite the btt-octopus-f446-v1 stock bootloader/);
    expect(f.message).toMatch(/SD bootloader will not start it/);
    expect(f.hint).toMatch(/Rebuild with Bootloader offset "32KiB bootloader" \(make menuconfig\)/);
  });

  it('flags the wrong offset', () => {
    const r = inspectFirmware(f446(0x08010000), { board: octopus });
    expect(errors(r)).toEqual(['wrong-offset']);
    expect(r.findings.find((x) => x.id === 'wrong-offset')!.message).toMatch(/linked for 0x08010000 \(64 KiB bootloader\).*0x08008000 \(32 KiB bootloader\)/);
  });

  it('accepts either bootloader a vendor shipped (FYSETC Spider 32 and 64 KiB)', () => {
    const spider = catalog.get('fysetc-spider');
    expect(errors(inspectFirmware(f446(0x08008000), { board: spider }))).toEqual([]);
    expect(errors(inspectFirmware(f446(0x08010000), { board: spider }))).toEqual([]);
    expect(errors(inspectFirmware(f446(0x08000000), { board: spider }))).toEqual(['no-bootloader-build']);
  });

  it('flags the wrong MCU from the Klipper dictionary', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f407xx', flashStart: 0x08008000, size: 45000, klipper: true }).bytes;
    const r = inspectFirmware(fw, { board: octopus });
    expect(errors(r)).toEqual(['mcu-mismatch']);
    expect(r.findings.find((f) => f.id === 'mcu-mismatch')!.message).toBe('built for stm32f407xx, but the btt-octopus-f446-v1 has stm32f446xx');
  });

  it('flags an LPC image for an STM32 board without a dictionary, and an STM32 image for an LPC board', () => {
    const lpc = makeSyntheticFirmware({ mcu: 'lpc1769', flashStart: 0x4000, size: 30000 }).bytes;
    const r = inspectFirmware(lpc, { board: octopus });
    expect(errors(r)).toContain('mcu-mismatch');
    const r2 = inspectFirmware(f446(0x08008000), { board: catalog.get('btt-skr-turbo-v1.4') });
    expect(errors(r2)).toContain('mcu-mismatch');
    expect(errors(inspectFirmware(lpc, { board: catalog.get('btt-skr-turbo-v1.4') }))).toEqual([]);
  });

  it('flags an LPC build without the 16 KiB bootloader offset', () => {
    const lpc = makeSyntheticFirmware({ mcu: 'lpc1768', flashStart: 0x0, size: 30000, klipper: true, lpcChecksum: true }).bytes;
    const r = inspectFirmware(lpc, { board: catalog.get('btt-skr-v1.3') });
    expect(errors(r)).toEqual(['no-bootloader-build']);
    expect(r.findings[r.findings.length - 1]!.hint).toMatch(/"16KiB bootloader"/);
  });

  it('flags an image too large for the flash above the bootloader', () => {
    const big = makeSyntheticFirmware({ mcu: 'stm32f401xc', flashStart: 0x08008000, size: 240 * 1024, klipper: true }).bytes;
    const r = inspectFirmware(big, { board: catalog.get('fysetc-cheetah') });
    expect(errors(r)).toContain('too-large');
    // …and on its own, against the MCU the dictionary names.
    expect(errors(inspectFirmware(big))).toContain('too-large');
    const fits = makeSyntheticFirmware({ mcu: 'stm32f401xc', flashStart: 0x08008000, size: 200 * 1024, klipper: true }).bytes;
    expect(errors(inspectFirmware(fits, { board: catalog.get('fysetc-cheetah') }))).toEqual([]);
  });

  it('warns when the build’s serial pins are the board’s SD card pins', () => {
    const fw = f446(0x08008000, { klipper: { interface: { kind: 'serial', baud: 250000, pins: 'PC11,PC10' } } });
    const r = inspectFirmware(fw, { board: octopus });
    expect(r.klipper?.interface).toEqual({ kind: 'serial', pins: ['PC11', 'PC10'], baud: 250000, canFrequency: null });
    expect(ids(r, 'warning')).toEqual(['interface-pins-conflict']);
    expect(errors(r)).toEqual([]);
  });

  it('reads a CAN build', () => {
    const fw = f446(0x08008000, { klipper: { interface: { kind: 'can', frequency: 500000, pins: 'PD0,PD1' } } });
    expect(inspectFirmware(fw).klipper?.interface).toEqual({ kind: 'can', pins: ['PD0', 'PD1'], baud: null, canFrequency: 500000 });
  });

  it('warns when the stack pointer is above the board MCU’s RAM (no dictionary)', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, size: 40000 }).bytes;
    const r = inspectFirmware(fw, { board: catalog.get('fysetc-cheetah') }); // F401: 64 KiB RAM
    expect(ids(r, 'warning')).toContain('stack-outside-ram');
  });

  it('warns that the address cannot be checked for a board whose bootloader address is unknown', () => {
    const fw = makeSyntheticFirmware({ mcu: 'hc32f460', flashStart: 0x10000, size: 40000 }).bytes;
    const r = inspectFirmware(fw, { board: catalog.get('anycubic-kobra') });
    expect(ids(r, 'warning')).toContain('board-app-start-unknown');
    expect(r.flashStart).toBe(0x10000);
  });
});

describe('Marlin builds', () => {
  it('reads the version and machine and checks the offset with Marlin wording', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, size: 60000, marlin: { version: '2.1.2.4', machine: 'Ender-3 V2' } }).bytes;
    const r = inspectFirmware(fw);
    expect(r.marlin).toEqual({ version: '2.1.2.4', machine: 'Ender-3 V2', built: 'Nov 24 2026 12:00:00' });
    expect(r.klipper).toBeNull();
    expect(r.flashStart).toBe(0x08007000);
    const wrong = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08000000, size: 60000, marlin: { version: '2.1.2.4' } }).bytes;
    const r2 = inspectFirmware(wrong, { board: catalog.get('creality-v4.2.2') });
    expect(errors(r2)).toEqual(['no-bootloader-build']);
    expect(r2.findings.find((f) => f.id === 'no-bootloader-build')!.hint).toMatch(/board_build\.offset is 0x00007000/);
  });
});

describe('Klipper builds for MCUs fwcard has no memory map for', () => {
  it('names the MCU instead of calling the file junk', async () => {
    const { deflateSync } = await import('node:zlib');
    const { makeKlipperDictionary } = await import('../../fixtures/synth/dictionary.js');
    const { dictionaryJson } = await import('../../src/sim/dictionary-builder.js');
    const dict = { ...makeKlipperDictionary({ mcu: 'stm32f446xx' }), config: { MCU: 'rp2040', CLOCK_FREQ: 12000000 } };
    const img = new Uint8Array(20000).fill(0xff);
    img.set(deflateSync(Buffer.from(dictionaryJson(dict)), { level: 9 }), 4096); // boot2 first: no vector table at 0
    const r = inspectFirmware(img);
    expect(r.format).toBe('Klipper firmware for rp2040');
    expect(ids(r, 'warning')).toEqual(['unsupported-mcu']);
    expect(errors(inspectFirmware(img, { board: octopus }))).toEqual(['unsupported-mcu']);
  });
});

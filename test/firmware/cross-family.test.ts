/** Messages compare like with like: no "KiB of bootloader" or flash bytes across address spaces. */
import { describe, expect, it } from 'vitest';
import { describeAppStart } from '../../src/firmware/mcu-memory.js';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { catalog, errors } from './helpers.js';

const text = (r: ReturnType<typeof inspectFirmware>) => r.findings.map((f) => `${f.message} ${f.hint}`).join('\n');
const garbled = /-\d+ (KiB|bytes)|\d{5,} KiB bootloader/;

describe('a build for one MCU family checked against a board of another', () => {
  it('F446 build on an LPC1768 board: "another MCU family", STM32 flash named, no sizes', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, size: 40000, klipper: true });
    const r = inspectFirmware(fw.bytes, { board: catalog.get('generic-lpc1768') });
    expect(errors(r)).toEqual(['mcu-mismatch', 'other-family']);
    const f = r.findings.find((x) => x.id === 'other-family')!;
    expect(f.message).toBe(
      'linked for 0x08008000 (32 KiB bootloader), an address in the flash of STM32-type MCUs (STM32/GD32/AT32, flash at 0x08000000): this build is for another MCU family than the lpc1768 of the generic-lpc1768 (flash at 0x00000000)',
    );
    expect(f.hint).toMatch(/Processor model lpc1768/);
    expect(f.hint).toMatch(/"16KiB bootloader"/);
    expect(text(r)).not.toMatch(garbled);
    expect(text(r)).not.toMatch(/does not fit/);
  });

  it('LPC build on the Octopus: the LPC/HC32 address space is named, no negative KiB', () => {
    const fw = makeSyntheticFirmware({ mcu: 'lpc1769', flashStart: 0x4000, size: 40000, klipper: true });
    const r = inspectFirmware(fw.bytes, { board: catalog.get('btt-octopus-f446-v1') });
    expect(errors(r)).toEqual(['mcu-mismatch', 'other-family']);
    expect(r.findings.find((x) => x.id === 'other-family')!.message).toMatch(
      /^linked for 0x00004000 \(16 KiB bootloader\), an address in the flash of LPC176x or HC32F460 MCUs \(flash at 0x00000000\): this build is for another MCU family than the stm32f446xx of the btt-octopus-f446-v1 \(flash at 0x08000000\)$/,
    );
    expect(text(r)).not.toMatch(garbled);
  });

  it('a plain (non-Klipper) image of another family says the same', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, size: 30000 });
    const r = inspectFirmware(fw.bytes, { board: catalog.get('generic-lpc1769') });
    expect(errors(r)).toContain('other-family');
    expect(text(r)).not.toMatch(garbled);
  });

  it('describes every address from the start of its own flash', () => {
    expect(describeAppStart(0x08008000, 'lpc176x')).toBe('32 KiB bootloader');
    expect(describeAppStart(0x4000, 'stm32')).toBe('16 KiB bootloader');
    expect(describeAppStart(0x08020200)).toBe('128 KiB + 512 B bootloader');
  });
});

describe('MCU names as Klipper spells them', () => {
  it('a real HC32F460 build says MCU "HC32F460" (capitals, src/hc32f460/Kconfig): it matches an hc32f460 board', () => {
    const fw = makeSyntheticFirmware({ mcu: 'hc32f460', flashStart: 0xc000, size: 40000, klipper: { config: { MCU: 'HC32F460' } } });
    const r = inspectFirmware(fw.bytes, { board: catalog.get('voxelab-aquila-hc32') });
    expect(r.mcu).toBe('HC32F460');
    expect(r.linkAddress).toMatchObject({ value: 0xc000, confidence: 'certain' });
    expect(errors(r)).toEqual([]);
  });
});

/**
 * The synthetic samples committed in fixtures/firmware/ (written by fixtures/generate.mjs).
 * Kept here so a test can check the committed files still equal what the generator makes.
 */
import { chituEncode } from './chitu.js';
import { mksRobinXor } from './mks-robin.js';
import { makeSyntheticFirmware, type SyntheticFirmwareOptions } from './synth.js';

export interface SampleFile {
  name: string;
  bytes: Uint8Array;
  /** What it is and what inspecting it should say. */
  description: string;
}

function sample(name: string, description: string, opts: SyntheticFirmwareOptions, encode?: (b: Uint8Array) => Uint8Array, withDict = false): SampleFile[] {
  const fw = makeSyntheticFirmware(opts);
  const out: SampleFile[] = [{ name, bytes: encode ? encode(fw.bytes) : fw.bytes, description }];
  if (withDict && fw.dictionaryJson) {
    out.push({ name: name.replace(/\.bin$/, '.dict'), bytes: new TextEncoder().encode(fw.dictionaryJson), description: `the Klipper data dictionary embedded in ${name}, as Klipper writes out/klipper.dict` });
  }
  return out;
}

export function syntheticSamples(): SampleFile[] {
  return [
    // README quick start: board btt-octopus-f446-v1.
    ...sample(
      'klipper-stm32f446-32k.bin',
      'Klipper-style build for STM32F446, USB, linked at 0x08008000 (32 KiB bootloader): right for btt-octopus-f446-v1',
      { mcu: 'stm32f446xx', flashStart: 0x08008000, size: 45000, klipper: { version: 'v0.13.0-0-gfwcard0', interface: { kind: 'usb' } }, seed: 446 },
      undefined,
      true,
    ),
    ...sample(
      'klipper-stm32f446-nobootloader.bin',
      'the same build with "No bootloader" (linked at 0x08000000): btt-octopus-f446-v1 reports no-bootloader-build',
      { mcu: 'stm32f446xx', flashStart: 0x08000000, size: 45000, klipper: { version: 'v0.13.0-0-gfwcard0', interface: { kind: 'usb' } }, seed: 447 },
    ),
    ...sample(
      'klipper-lpc1769-16k.bin',
      'Klipper-style build for LPC1769, serial 250000 baud, linked at 0x4000 (16 KiB bootloader): right for btt-skr-turbo-v1.4',
      { mcu: 'lpc1769', flashStart: 0x4000, size: 32000, klipper: { version: 'v0.13.0-0-gfwcard0', interface: { kind: 'serial', baud: 250000 } }, seed: 1769 },
    ),
    ...sample(
      'marlin-stm32f103-28k.bin',
      'Marlin-style build for STM32F103 linked at 0x08007000 (28 KiB): right for creality-v4.2.2 (any new .bin name)',
      { mcu: 'stm32f103xe', flashStart: 0x08007000, size: 60000, marlin: { version: '2.1.2.4', machine: 'Ender-3 V2' }, seed: 103 },
    ),
    ...sample(
      'klipper-stm32f103-28k.mks-robin.bin',
      'Klipper-style STM32F103 build at 0x08007000, MKS Robin scrambled (as Robin_nano35.bin for mks-robin-v12)',
      { mcu: 'stm32f103xe', flashStart: 0x08007000, size: 36000, klipper: { version: 'v0.13.0-0-gfwcard0', interface: { kind: 'serial', pins: 'PA10,PA9' } }, seed: 35 },
      mksRobinXor,
    ),
    ...sample(
      'klipper-stm32f103-34k.update.cbd',
      'Klipper-style STM32F103 build at 0x08008800 (34 KiB), Chitu-encoded update.cbd for chitu-v6',
      { mcu: 'stm32f103xe', flashStart: 0x08008800, size: 36000, klipper: { version: 'v0.13.0-0-gfwcard0', interface: { kind: 'serial', pins: 'PA10,PA9' } }, seed: 6 },
      chituEncode,
    ),
  ];
}

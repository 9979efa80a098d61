/** FYSETC boards. Sources: F-SP, F-S6, F-CH (github.com/FYSETC/FYSETC-SPIDER, FYSETC-S6, FYSETC-Cheetah-v2: READMEs and bootloader images), K-BD; keys resolved in ../sources.ts and docs/sources.md. */
import type { Board } from '../types.js';
import { IMAGES } from './bootloader-images.js';
import { fact, fatfsCard, inferred, klipperDef, spi, unverified, KIB } from './facts.js';

const common = {
  bootloaderBus: fact('spi' as const, ['K-BD', 'K-DOC']),
  folder: fact('', ['F-SP', 'F-CH']),
  firmwareName: fact('firmware.bin', ['F-SP', 'F-S6', 'F-CH']),
  uniqueName: fact(false, ['F-SP']),
  caseSensitive: inferred<boolean | 'unknown'>(false, ['P-FATFS']),
  readsLongNames: unverified<boolean | 'unknown'>('unknown', [], 'Not determined; firmware.bin is a valid 8.3 name.'),
  afterFlash: fact('old.bin', ['F-SP', 'F-CH', 'K-BD'], 'verified', 'Klipper checks for OLD.BIN.'),
};

export const FYSETC_BOARDS: Board[] = [
  {
    name: 'fysetc-spider',
    aliases: ['fysetc-spider-v1', 'fysetc-s6-v1.2', 'fysetc-s6-v2'],
    vendor: 'FYSETC',
    models: ['Spider V1.x', 'Spider V2.x', 'Spider V3.x', 'S6 V1.2', 'S6 V2'],
    mcu: 'stm32f446xx',
    klipper: klipperDef('fysetc-spider', 'stm32f446xx', spi('spi1'), 'PA4', { currentFirmwarePath: 'OLD.BIN' }),
    appStart: fact([0x08008000, 0x08010000], ['F-SP', 'F-S6', 'MF-F4', 'K-PR4255'], 'verified', '32 KiB on boards shipped from 2021-06-23, 64 KiB on older boards. Klipper sample configs still say 64 KiB or no bootloader.'),
    flashBytes: inferred(512 * KIB, ['ST-PN'], 'STM32F446VET6.'),
    ...common,
    card: fatfsCard(['F-SP', 'F-S6'], { fileSystems: ['FAT12', 'FAT16', 'FAT32'] }),
    bootloaderImage: fact(IMAGES.spider, ['F-SP'], 'verified', 'The 32 KiB bootloader (application at 0x08008000) of boards shipped from 2021-06-23; older 64 KiB boards: bootloader/Bootloader_FYSETC_SPIDER_10000.hex in the same repository. The S6 has its own: FYSETC/FYSETC-S6 bootloader/Bootloader-FYSETC_S6.hex.'),
    notes: [
      'Wait about 30 s after power-on; an LED beside the slot blinks (F-SP).',
      'The S6 has no on-board slot: use an SD module on EXP2 with CS on PA4 (F-S6).',
      'Only the old 64 KiB FYSETC bootloaders contain an EXFAT string (BL-STRINGS).',
      '"The bootloader prefer low speed SD cards"; an old 2 GB card worked (I-S6-3).',
    ],
  },
  {
    name: 'fysetc-cheetah',
    aliases: ['fysetc-cheetah-v2'],
    vendor: 'FYSETC',
    models: ['Cheetah V2.0'],
    mcu: 'stm32f401xc',
    klipper: klipperDef('fysetc-cheetah', 'stm32f401xc', spi('spi1'), 'PA4', { currentFirmwarePath: 'OLD.BIN' }),
    appStart: fact([0x08008000], ['F-CH', 'MF-F4', 'K-cfg fysetc-cheetah-v2.0']),
    flashBytes: inferred(256 * KIB, ['ST-PN'], 'STM32F401RC.'),
    ...common,
    card: fatfsCard(['F-CH']),
    bootloaderImage: fact(IMAGES.cheetahV2, ['F-CH'], 'verified', 'For the Cheetah V2.0.'),
    notes: ['Cheetah V1.1/V1.2 (STM32F103) have no SD bootloader.'],
  },
];

/** QIDI boards. Sources: K-BD, K-PR6979 and K-PR7006 (https://github.com/Klipper3d/klipper/pull/6979 and /7006), QD-DE; keys resolved in ../sources.ts and docs/sources.md. */
import type { Board } from '../types.js';
import { fact, fatfsCard, inferred, klipperDef, spi, unverified, KIB } from './facts.js';

export const QIDI_BOARDS: Board[] = [
  {
    name: 'qidi-x6',
    aliases: ['qidi-x-smart3', 'qidi-x-plus3', 'qidi-x-max3'],
    vendor: 'QIDI',
    models: ['X-4 / X-6 mainboard', 'X-Smart3', 'X-Plus3', 'X-Max3'],
    mcu: 'stm32f401xc',
    klipper: klipperDef('qidi-x6', 'stm32f401xc', spi('spi2'), 'PB12', { firmwarePath: 'X_4.bin', currentFirmwarePath: 'X_4.CUR' }),
    appStart: inferred([0x08008000], ['QD'], 'Vector-table and literal-pool analysis of stock and FreeDi X_4.bin: all absolute pointers are at or above 0x08008000.'),
    flashBytes: inferred(256 * KIB, ['ST-PN']),
    bootloaderBus: fact('spi', ['K-BD', 'K-PR7006']),
    folder: fact('', ['K-BD']),
    firmwareName: fact('X_4.bin', ['K-BD', 'K-PR7006']),
    uniqueName: fact(false, ['K-BD']),
    caseSensitive: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    readsLongNames: unverified<boolean | 'unknown'>('unknown', [], 'Not determined; X_4.bin is a valid 8.3 name.'),
    afterFlash: fact('X_4.CUR', ['K-BD']),
    card: fatfsCard(['QD-DE'], { fileSystems: ['FAT32'], maxCardBytes: 32e9 /* "no card larger than 32 GB": GB as sold */ }),
  },
  {
    name: 'qidi-x7',
    aliases: ['qidi-q1-pro', 'qidi-plus4'],
    vendor: 'QIDI',
    models: ['X-7 mainboard', 'Q1 Pro', 'Plus4'],
    mcu: 'stm32f401xc',
    klipper: klipperDef('qidi-x7', 'stm32f401xc', spi('spi2'), 'PB12', { firmwarePath: 'qd_mcu.bin', currentFirmwarePath: 'qd_mcu.CUR' }),
    appStart: inferred([0x08008000], ['QD'], 'The FreeDi qd_mcu.bin has the same vectors as its X_4.bin.'),
    flashBytes: inferred(256 * KIB, ['ST-PN']),
    bootloaderBus: fact('spi', ['K-BD', 'K-PR6979']),
    folder: fact('', ['K-BD']),
    firmwareName: fact('qd_mcu.bin', ['K-BD', 'K-PR6979']),
    uniqueName: fact(false, ['K-BD']),
    caseSensitive: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    readsLongNames: unverified<boolean | 'unknown'>('unknown', [], 'Not determined; qd_mcu.bin is a valid 8.3 name.'),
    afterFlash: fact('qd_mcu.CUR', ['K-BD']),
    card: fatfsCard([]),
    notes: ['Klipper needed 4 MHz SPI for this board (K-PR6979).'],
  },
];

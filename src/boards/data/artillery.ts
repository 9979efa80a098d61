/** Artillery printers. Sources: I-RAWR38 (https://github.com/wgcv/RAWR-TFT-Firmware-Artillery3D/issues/38), K-PR6533 (https://github.com/Klipper3d/klipper/pull/6533), ST-PN; keys resolved in ../sources.ts and docs/sources.md. */
import type { Board } from '../types.js';
import { fact, inferred, unverified, KIB } from './facts.js';

export const ARTILLERY_BOARDS: Board[] = [
  {
    name: 'artillery-sidewinder-x3-factory',
    aliases: ['artillery-sidewinder-x3-plus', 'artillery-sidewinder-x3-pro'],
    vendor: 'Artillery',
    models: ['Sidewinder X3 Plus (factory firmware V1.29)', 'Sidewinder X3 Pro (factory firmware V1.29)'],
    mcu: 'stm32f401xc',
    appStart: fact([0x0800c000], ['K-cfg artillery-sidewinder-x3-plus-2024', 'K-PR6533']),
    flashBytes: inferred(256 * KIB, ['ST-PN']),
    bootloaderBus: unverified<'spi' | 'sdio' | 'unknown'>('unknown', [], 'Not determined.'),
    folder: fact('', ['K-cfg artillery-sidewinder-x3-plus-2024']),
    firmwareName: fact('yuntu.bin', ['K-cfg artillery-sidewinder-x3-plus-2024']),
    uniqueName: unverified(false, [], 'Not determined.'),
    caseSensitive: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    readsLongNames: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    afterFlash: unverified('left', [], 'Not determined.'),
    card: unverified({ fileSystems: ['FAT32'] }, ['I-RAWR38'], 'An exFAT card failed for an Artillery TFT update; FAT32 fixed it.'),
    notes: ['Only the factory firmware V1.29 has this SD bootloader; other versions have none (use DFU) (K-cfg artillery-sidewinder-x3-plus-2024).', 'Ruby v1.2 boards (Sidewinder X2, Genius Pro) have no SD bootloader.'],
  },
];

/** Sovol printers. Sources: I-SV06-44 and I-SV06-105 (https://github.com/bassamanator/Sovol-SV06-firmware/issues/44 and /105), ST-PN; keys resolved in ../sources.ts and docs/sources.md. */
import type { Board } from '../types.js';
import { crealityCard, fact, inferred, unverified, KIB } from './facts.js';

export const SOVOL_BOARDS: Board[] = [
  {
    name: 'sovol-sv06',
    aliases: ['sovol-sv06-plus', 'sovol-sv-nl-v1.3.1'],
    vendor: 'Sovol',
    models: ['SV06', 'SV06 Plus', 'SV_NL V1.3.1 board'],
    mcu: 'stm32f103xe',
    appStart: fact([0x08007000], ['K-cfg sovol-sv06', 'K-cfg sovol-sv06-plus']),
    flashBytes: inferred(512 * KIB, ['ST-PN'], 'GD32F103RET6, built as stm32f103xe.'),
    bootloaderBus: unverified<'spi' | 'sdio' | 'unknown'>('unknown', [], 'Not determined.'),
    folder: fact('', ['K-cfg sovol-sv06']),
    firmwareName: fact('*.bin', ['K-cfg sovol-sv06'], 'verified', 'Any .bin that differs from the last one flashed (Creality-style).'),
    uniqueName: fact(true, ['K-cfg sovol-sv06']),
    caseSensitive: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    readsLongNames: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    afterFlash: unverified('left', [], 'Not determined.'),
    card: crealityCard(['I-SV06-44', 'I-SV06-105']),
    notes: ['A user reports it only flashed after FAT32 with a 4096-byte allocation unit (I-SV06-44).'],
  },
];

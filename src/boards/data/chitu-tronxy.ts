/** Chitu / Tronxy boards. Sources: K-BD, K-UCH (Klipper scripts/update_chitu.py), K-c-14a83103c, M-CC (Marlin chitu_crypt.py); keys resolved in ../sources.ts and docs/sources.md. */
import type { Board } from '../types.js';
import { fact, inferred, klipperDef, SDIO_AS_SWSPI, unverified, KIB } from './facts.js';

export const CHITU_BOARDS: Board[] = [
  {
    name: 'chitu-v6',
    aliases: ['tronxy-x5sa-v6', 'tronxy-x5sa-pro', 'tronxy-xy-2-pro', 'chitu-v5'],
    vendor: 'Chitu (Tronxy)',
    models: ['Chitu V5', 'Chitu V6', 'Tronxy X5SA', 'Tronxy X5SA Pro', 'Tronxy XY-2 Pro', 'CXY-V6'],
    mcu: 'stm32f103xe',
    klipper: klipperDef('chitu-v6', 'stm32f103xe', SDIO_AS_SWSPI, 'PC11', { skipVerify: true, conversion: 'chitu-v6', firmwarePath: 'update.cbd' }),
    conversion: fact('chitu-v6', ['K-BD', 'K-UCH', 'M-CC']),
    appStart: fact([0x08008800], ['K-UCH', 'M-CC', 'K-cfg tronxy-x5sa-v6']),
    flashBytes: inferred(512 * KIB, ['ST-PN'], 'STM32F103ZET6.'),
    bootloaderBus: fact('sdio', ['K-BD', 'K-c-14a83103c'], 'inferred', 'Klipper uses swspi on the SDIO pins with skip_verify.'),
    folder: fact('', ['K-cfg tronxy-x5sa-v6']),
    firmwareName: fact('update.cbd', ['K-BD', 'M-CC', 'K-cfg tronxy-x5sa-v6']),
    uniqueName: fact(false, ['K-BD']),
    caseSensitive: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    readsLongNames: unverified<boolean | 'unknown'>('unknown', [], 'Not determined; update.cbd is a valid 8.3 name.'),
    afterFlash: unverified('left', ['K-BD'], 'Klipper skips verification for this board; not checked.'),
    card: inferred({ fileSystems: ['FAT32'], gpt: false }, ['K-DOC'], 'Klipper: the card "must be fat or fat32".'),
    notes: ['The install finishes after "2 beeps" (K-cfg tronxy-x5sa-v6).'],
  },
  {
    name: 'tronxy-crux1',
    aliases: ['tronxy-cxy-v10.1'],
    vendor: 'Tronxy',
    models: ['Crux1 (CXY-V10.1)'],
    mcu: 'stm32f446xx',
    appStart: fact([0x08010000], ['K-cfg tronxy-crux1']),
    flashBytes: inferred(512 * KIB, ['ST-PN']),
    bootloaderBus: unverified<'spi' | 'sdio' | 'unknown'>('unknown', [], 'Not determined.'),
    folder: fact('update', ['K-cfg tronxy-crux1']),
    firmwareName: fact('fmw_tronxy.bin', ['K-cfg tronxy-crux1']),
    uniqueName: unverified(false, [], 'Not determined.'),
    caseSensitive: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
    readsLongNames: inferred<boolean | 'unknown'>(true, ['K-cfg tronxy-crux1'], 'fmw_tronxy.bin is longer than 8.3.'),
    afterFlash: unverified('left', [], 'Not determined.'),
    card: fact({ fileSystems: ['FAT32'] }, ['K-cfg tronxy-crux1']),
    notes: ['Some boards carry a GD32F4xx instead of the STM32F446 (K-cfg tronxy-crux1).'],
  },
];

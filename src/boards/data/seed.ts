import type { Board, Sourced } from '../types.js';

const v = <T>(value: T, sources: string[], confidence: 'verified' | 'inferred' | 'unverified' = 'verified'): Sourced<T> => ({ value, confidence, sources });

// Seed entries so the foundation can be built; replaced by the sourced catalog.
export const SEED_BOARDS: Board[] = [
  {
    name: 'btt-octopus-f446-v1',
    aliases: ['btt-octopus-pro-f446-v1'],
    vendor: 'BIGTREETECH',
    models: ['Octopus V1.0', 'Octopus V1.1', 'Octopus Pro F446'],
    mcu: 'stm32f446xx',
    klipper: { mcu: 'stm32f446xx', bus: { kind: 'swspi', miso: 'PC8', mosi: 'PD2', sclk: 'PC12' }, csPin: 'PC11', firmwarePath: 'firmware.bin', currentFirmwarePath: 'firmware.cur', skipVerify: true, requiresUniqueFwName: false },
    appStart: v([0x08008000], ['B-OCT-RM', 'M-F4']),
    bootloaderBus: v('sdio', ['K-BD', 'K-PR5759']),
    folder: v('', ['B-OCT-RM']),
    firmwareName: v('firmware.bin', ['B-DOC-OCT']),
    uniqueName: v(false, ['K-BD']),
    caseSensitive: v(false, ['B-OCT-BL'], 'inferred'),
    readsLongNames: v('unknown', [], 'unverified'),
    afterFlash: v('FIRMWARE.CUR', ['B-OCT-BL']),
    card: v({ fileSystems: ['FAT16', 'FAT32'], gpt: false, superfloppy: true }, ['B-OCT-BL'], 'inferred'),
  },
  {
    name: 'creality-v4.2.2',
    aliases: ['creality-v4.2.7'],
    vendor: 'Creality',
    models: ['Creality 4.2.2', 'Creality 4.2.7', 'Ender-3 V2'],
    mcu: 'stm32f103xe',
    klipper: { mcu: 'stm32f103xe', bus: { kind: 'swspi', miso: 'PC8', mosi: 'PD2', sclk: 'PC12' }, csPin: 'PC11', firmwarePath: 'firmware.bin', currentFirmwarePath: 'firmware.cur', skipVerify: true, requiresUniqueFwName: true },
    appStart: v([0x08007000], ['M-F1']),
    bootloaderBus: v('sdio', ['K-BD']),
    folder: v('', ['K-cfg creality-v4.2.7']),
    firmwareName: v('*.bin', ['K-cfg creality-v4.2.7', 'M-RB']),
    uniqueName: v(true, ['K-c-a683ef350']),
    caseSensitive: v('unknown', [], 'unverified'),
    readsLongNames: v('unknown', [], 'unverified'),
    afterFlash: v('left', ['K-cfg creality-v4.2.7'], 'unverified'),
    card: v({ fileSystems: ['FAT32'], gpt: false }, ['P-TH3D'], 'inferred'),
  },
];

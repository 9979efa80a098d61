/** Other stock SD-bootloader boards. Sources: the Marlin ini files (M-F1, M-HC at the commits in docs/sources.md), P-MRISCO (https://github.com/classicrocker883/MRiscoCProUI/wiki/How-to-install-the-firmware), P-STEVEG, K-DOC, K-KCH; keys resolved in ../sources.ts and docs/sources.md. */
import type { Board } from '../types.js';
import { fact, inferred, unverified, KIB } from './facts.js';

const unk = {
  bootloaderBus: unverified<'spi' | 'sdio' | 'unknown'>('unknown', [], 'Not determined.'),
  uniqueName: unverified(false, [], 'Not determined.'),
  caseSensitive: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
  readsLongNames: unverified<boolean | 'unknown'>('unknown', [], 'Not determined.'),
  afterFlash: unverified('left', [], 'Not determined.'),
  card: unverified({ fileSystems: ['FAT32' as const] }, ['K-DOC'], 'Not determined; FAT32 is the common denominator.'),
};

export const OTHER_BOARDS: Board[] = [
  {
    name: 'alfawise-u30',
    aliases: [],
    vendor: 'Alfawise',
    models: ['U30', 'U20'],
    mcu: 'stm32f103xe',
    appStart: fact([0x08010000], ['K-cfg alfawise-u30']),
    flashBytes: inferred(512 * KIB, ['ST-PN']),
    folder: fact('', ['K-cfg alfawise-u30']),
    firmwareName: fact('project.bin', ['K-cfg alfawise-u30']),
    ...unk,
  },
  {
    name: 'longer-lk4x',
    aliases: ['longer-lgt-kit-v2-x'],
    vendor: 'Longer',
    models: ['LK4 X (LGT_KIT_V2_X)'],
    mcu: 'stm32f103xe',
    appStart: fact([0x08008000], ['K-cfg longer-lk4x']),
    flashBytes: inferred(512 * KIB, ['ST-PN']),
    folder: fact('', ['K-cfg longer-lk4x']),
    firmwareName: fact('firmware.bin', ['K-cfg longer-lk4x']),
    ...unk,
  },
  {
    name: 'voxelab-aquila-hc32',
    aliases: ['voxelab-aquila'],
    vendor: 'Voxelab',
    models: ['Aquila (HC32F460 board)'],
    mcu: 'hc32f460',
    appStart: fact([0xc000], ['M-HC', 'P-MRISCO']),
    flashBytes: inferred(256 * KIB, ['K-KCH']),
    folder: fact('firmware', ['P-MRISCO']),
    firmwareName: fact('*.bin', ['P-MRISCO', 'P-STEVEG']),
    ...unk,
  },
  {
    name: 'jgaurora-a5s',
    aliases: ['jgaurora-a1'],
    vendor: 'JGAurora',
    models: ['A5S', 'A1'],
    mcu: 'stm32f103xe',
    appStart: fact([0x0800a000], ['M-F1']),
    flashBytes: inferred(512 * KIB, ['ST-PN'], 'STM32F103ZET6.'),
    folder: unverified('', [], 'Not determined.'),
    firmwareName: fact('firmware_for_sd_upload.bin', ['M-F1']),
    ...unk,
  },
];

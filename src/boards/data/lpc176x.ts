/** LPC176x boards whose bootloader descends from Smoothieware's LPC17xx-DFU-Bootloader. Sources: T-* (github.com/triffid/LPC17xx-DFU-Bootloader @4acb3bb), GA-* (github.com/GadgetAngel/BTT_SKR_13_14_14T_SD-DFU-Bootloader), K-BD, K-BLD; keys resolved in ../sources.ts and docs/sources.md. */
import type { Board, CardRules } from '../types.js';
import { fact, inferred, klipperDef, spi, KIB } from './facts.js';

const lpcCard = inferred<CardRules>(
  { fileSystems: ['FAT12', 'FAT16', 'FAT32'], gpt: false, superfloppy: true },
  ['T-FF', 'T-FFC', 'T-RM'],
  'FatFs R0.09a without exFAT; mounts a superfloppy or MBR entry #1 only, so GPT cards do not mount.',
);

const common = {
  appStart: fact([0x4000], ['K-KCL', 'K-BLD', 'GA-RM']),
  flashBytes: fact(512 * KIB, ['K-KCL']),
  bootloaderBus: fact('spi' as const, ['T-SD', 'K-BD']),
  folder: fact('', ['T-MAIN', 'T-RM']),
  firmwareName: fact('firmware.bin', ['T-MAIN', 'GA-BL']),
  uniqueName: fact(false, ['T-MAIN']),
  caseSensitive: inferred(false, ['T-FF', 'P-FATFS'], 'FatFs compares 8.3 names in upper case.'),
  readsLongNames: fact(false, ['T-FF'], 'verified', '_USE_LFN 0: a long name written by the PC is invisible; `firmware.bin` is a valid 8.3 name.'),
  afterFlash: fact('FIRMWARE.CUR', ['T-MAIN', 'GA-BL'], 'verified', 'An old firmware.cur is deleted first, then firmware.bin is renamed.'),
  card: lpcCard,
};

export const LPC176X_BOARDS: Board[] = [
  {
    name: 'generic-lpc1768',
    aliases: ['btt-skr-v1.1', 'btt-skr-v1.3', 'btt-skr-v1.4', 'mks-sgenl-v1', 'mks-sbase'],
    vendor: 'BIGTREETECH / Makerbase (LPC1768)',
    models: ['SKR V1.1', 'SKR V1.3', 'SKR V1.4', 'MKS SGen-L V1', 'MKS SBase'],
    mcu: 'lpc1768',
    klipper: klipperDef('generic-lpc1768', 'lpc1768', spi('ssp1'), 'P0.6'),
    ...common,
    notes: ['MKS SGen-L/SBase rename behaviour (FIRMWARE.CUR, Klipper\'s default) was not checked against an MKS bootloader image; an SBase user saw firmware.cur after switching to FAT32 (I-SBASE2: https://github.com/makerbase-mks/MKS-SBASE/issues/2).'],
  },
  {
    name: 'generic-lpc1769',
    aliases: ['smoothieboard-v1', 'btt-skr-turbo-v1.4', 'btt-skr-e3-turbo', 'mks-sgenl-v2'],
    vendor: 'Smoothieware / BIGTREETECH / Makerbase (LPC1769)',
    models: ['Smoothieboard v1', 'SKR V1.4 Turbo', 'SKR E3 Turbo', 'MKS SGen-L V2'],
    mcu: 'lpc1769',
    klipper: klipperDef('generic-lpc1769', 'lpc1769', spi('ssp1'), 'P0.6'),
    ...common,
    afterFlash: fact('FIRMWARE.CUR', ['T-MAIN', 'T-RM', 'GA-BL']),
    notes: ['MKS SGen-L V2 rename behaviour: Klipper default, not checked against an MKS image (unverified).'],
  },
];


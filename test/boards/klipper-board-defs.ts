/**
 * What Klipper's scripts/spi_flash/board_defs.py (K-BD, commit 84104bbbd) says, written
 * down as expectations for the catalog test: every definition, and every alias with the
 * definition it points to. `list_boards()` returns 73 names (chitu-v6 is both a
 * definition and an alias of itself).
 */
export interface ExpectedDef {
  mcu: string;
  spiBus: string;
  spiPins?: string;
  csPin: string;
  firmwarePath?: string;
  currentFirmwarePath?: string;
  skipVerify?: boolean;
  requiresUniqueFwName?: boolean;
  conversion?: 'mks-robin' | 'chitu-v6';
}

const SDIO = 'PC8,PD2,PC12';

export const KLIPPER_DEFS: Record<string, ExpectedDef> = {
  'generic-lpc1768': { mcu: 'lpc1768', spiBus: 'ssp1', csPin: 'P0.6' },
  'generic-lpc1769': { mcu: 'lpc1769', spiBus: 'ssp1', csPin: 'P0.6' },
  'btt-skr-mini': { mcu: 'stm32f103xe', spiBus: 'spi1', csPin: 'PA4' },
  'btt-skr-mini-v3': { mcu: 'stm32g0b1xx', spiBus: 'spi1', csPin: 'PA4' },
  'btt-skr-mini-v3-b0': { mcu: 'stm32g0b0xx', spiBus: 'spi1', csPin: 'PA4' },
  'flyboard-mini': { mcu: 'stm32f103xe', spiBus: 'spi2', csPin: 'PB12', currentFirmwarePath: 'FLY.CUR' },
  'mks-robin-e3': { mcu: 'stm32f103xe', spiBus: 'spi2', csPin: 'PA15', conversion: 'mks-robin', firmwarePath: 'Robin_e3.bin', currentFirmwarePath: 'Robin_e3.cur' },
  'mks-robin-v12': { mcu: 'stm32f103xe', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', skipVerify: true, conversion: 'mks-robin', firmwarePath: 'ROBIN_NANO35.BIN', currentFirmwarePath: 'ROBIN_NANO35.BIN' },
  'btt-octopus-f407-v1': { mcu: 'stm32f407xx', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', skipVerify: true },
  'btt-octopus-f429-v1': { mcu: 'stm32f429xx', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', skipVerify: true },
  'btt-octopus-f446-v1': { mcu: 'stm32f446xx', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', skipVerify: true },
  'btt-skr-pro': { mcu: 'stm32f407xx', spiBus: 'swspi', spiPins: 'PA6,PB5,PA5', csPin: 'PA4' },
  'btt-gtr': { mcu: 'stm32f407xx', spiBus: 'spi1', csPin: 'PA4' },
  'fysetc-spider': { mcu: 'stm32f446xx', spiBus: 'spi1', csPin: 'PA4', currentFirmwarePath: 'OLD.BIN' },
  'btt-skr-se-bx': { mcu: 'stm32h743xx', spiBus: 'spi3a', csPin: 'PA15' },
  'btt-skr-3-h743': { mcu: 'stm32h743xx', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', skipVerify: true },
  'btt-skr-3-h723': { mcu: 'stm32h723xx', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', skipVerify: true },
  'creality-v4.2.2': { mcu: 'stm32f103xe', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', skipVerify: true, requiresUniqueFwName: true },
  monster8: { mcu: 'stm32f407xx', spiBus: 'spi3a', csPin: 'PC9' },
  'fly-gemini-v2': { mcu: 'stm32f405xx', spiBus: 'spi1', csPin: 'PA4' },
  'fysetc-cheetah': { mcu: 'stm32f401xc', spiBus: 'spi1', csPin: 'PA4', currentFirmwarePath: 'OLD.BIN' },
  'btt-octopus-max-ez': { mcu: 'stm32h723xx', spiBus: 'swspi', spiPins: 'PE13,PE14,PE12', csPin: 'PB12', skipVerify: true },
  'btt-skrat': { mcu: 'stm32g0b1xx', spiBus: 'spi1', csPin: 'PB8' },
  'chitu-v6': { mcu: 'stm32f103xe', spiBus: 'swspi', spiPins: SDIO, csPin: 'PC11', conversion: 'chitu-v6', firmwarePath: 'update.cbd', skipVerify: true },
  'znp-robin-nano-dw-v2.2': { mcu: 'stm32f401xc', spiBus: 'spi2', csPin: 'PB12', firmwarePath: 'ZNP_ROBIN_NANO.bin', currentFirmwarePath: 'ZNP_ROBIN_NANO.CUR' },
  'qidi-x6': { mcu: 'stm32f401xc', spiBus: 'spi2', csPin: 'PB12', skipVerify: false, firmwarePath: 'X_4.bin', currentFirmwarePath: 'X_4.CUR' },
  'qidi-x7': { mcu: 'stm32f401xc', spiBus: 'spi2', csPin: 'PB12', skipVerify: false, firmwarePath: 'qd_mcu.bin', currentFirmwarePath: 'qd_mcu.CUR' },
};

export const KLIPPER_ALIASES: Record<string, string> = {
  'btt-skr-v1.1': 'generic-lpc1768',
  'btt-skr-v1.3': 'generic-lpc1768',
  'btt-skr-v1.4': 'generic-lpc1768',
  'mks-sgenl-v1': 'generic-lpc1768',
  'mks-sbase': 'generic-lpc1768',
  'smoothieboard-v1': 'generic-lpc1769',
  'btt-skr-turbo-v1.4': 'generic-lpc1769',
  'btt-skr-e3-turbo': 'generic-lpc1769',
  'mks-sgenl-v2': 'generic-lpc1769',
  'btt-skr-mini-v1.1': 'btt-skr-mini',
  'btt-skr-mini-e3-v1': 'btt-skr-mini',
  'btt-skr-mini-e3-v1.2': 'btt-skr-mini',
  'btt-skr-mini-e3-v2': 'btt-skr-mini',
  'btt-skr-mini-e3-v3': 'btt-skr-mini-v3',
  'btt-skr-mini-e3-v3-b0': 'btt-skr-mini-v3-b0',
  'btt-skr-mini-mz': 'btt-skr-mini',
  'btt-skr-e3-dip': 'btt-skr-mini',
  'btt002-v1': 'btt-skr-mini',
  'creality-v4.2.7': 'creality-v4.2.2',
  'btt-skr-2-f407': 'btt-octopus-f407-v1',
  'btt-skr-2-f429': 'btt-octopus-f429-v1',
  'btt-octopus-f407-v1.0': 'btt-octopus-f407-v1',
  'btt-octopus-f407-v1.1': 'btt-octopus-f407-v1',
  'btt-octopus-f429-v1.0': 'btt-octopus-f429-v1',
  'btt-octopus-f429-v1.1': 'btt-octopus-f429-v1',
  'btt-octopus-f446-v1.0': 'btt-octopus-f446-v1',
  'btt-octopus-f446-v1.1': 'btt-octopus-f446-v1',
  'btt-octopus-pro-f429-v1.0': 'btt-octopus-f429-v1',
  'btt-octopus-pro-f446-v1.0': 'btt-octopus-f446-v1',
  'btt-octopus-pro-h723-v1.1': 'btt-skr-3-h723',
  'btt-skr-pro-v1.1': 'btt-skr-pro',
  'btt-skr-pro-v1.2': 'btt-skr-pro',
  'btt-gtr-v1': 'btt-gtr',
  'mks-robin-e3d': 'mks-robin-e3',
  'fysetc-cheetah-v2': 'fysetc-cheetah',
  'fysetc-spider-v1': 'fysetc-spider',
  'fysetc-s6-v1.2': 'fysetc-spider',
  'fysetc-s6-v2': 'fysetc-spider',
  robin_v3: 'monster8',
  'btt-skrat-v1.0': 'btt-skrat',
  'chitu-v6': 'chitu-v6',
  'qidi-x-smart3': 'qidi-x6',
  'qidi-x-plus3': 'qidi-x6',
  'qidi-x-max3': 'qidi-x6',
  'qidi-q1-pro': 'qidi-x7',
  'qidi-plus4': 'qidi-x7',
};

/** Klipper's list_boards(): sorted defs + aliases, chitu-v6 twice. */
export const KLIPPER_LIST_BOARDS: string[] = [...Object.keys(KLIPPER_DEFS), ...Object.keys(KLIPPER_ALIASES)].sort();

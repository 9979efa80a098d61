import { UsageError } from '../errors.js';

/**
 * What the simulated MCU knows about its chip: Klipper's MCU name, CLOCK_FREQ, pin and bus
 * enumerations, reserved pins and the shutdown texts its gpio/spi code uses. Every value
 * follows Klipper's source (commit 84104bbbd), cited per table below:
 * - CLOCK_FREQ: the `config CLOCK_FREQ` defaults of src/stm32/Kconfig, src/lpc176x/Kconfig and
 *   src/hc32f460/Kconfig (HC32: the first "Clock Speed" choice, 168 MHz).
 * - pins: the DECL_ENUMERATION_RANGE lines of src/stm32/gpio.c (PA..PI, each port only
 *   `#ifdef GPIOx` in the chip's lib/stm32*\/include/<chip>.h), src/lpc176x/gpio.c and
 *   src/hc32f460/gpio.c.
 * - SPI buses: src/stm32/spi.c per CONFIG_MACH_STM32F1/F4/G0 (SPI4/SPI3/SPI6 entries only
 *   where the chip's header defines that SPI), src/stm32/stm32h7_spi.c (the Makefile builds it
 *   instead of spi.c for STM32H7), src/lpc176x/spi.c. The HC32F460 port has no SPI at all
 *   (src/hc32f460/Kconfig selects no HAVE_GPIO_SPI, so src/Kconfig leaves WANT_SPI and
 *   WANT_SOFTWARE_SPI off).
 * - SDIO: src/stm32/sdio.c, built only where src/stm32/Kconfig selects HAVE_GPIO_SDIO
 *   ("if MACH_STM32F4").
 * - RESERVE_PINS_*: src/stm32/usbotg.c and usbfs.c ("PA11,PA12"), src/stm32/serial.c and
 *   stm32f0_serial.c (USART1 "PA10,PA9", the default serial choice), src/lpc176x/usbserial.c
 *   ("P0.30,P0.29,P2.9"), src/lpc176x/serial.c ("P0.3,P0.2"), src/hc32f460/serial.c
 *   ("PA7,PA8", the first "Communication interface" choice of src/hc32f460/Kconfig).
 */
export interface McuProfile {
  mcu: string;
  family: 'stm32' | 'lpc176x' | 'hc32f460';
  clockFreq: number;
  /** Ranged pin enumeration entries ("PA0": [0, 16]). */
  pinRanges: Record<string, [number, number]>;
  spiBuses: Record<string, number>;
  sdioBuses: Record<string, number>;
  /** BUS_PINS_* constants. */
  busPins: Record<string, string>;
  /** Links a Klipper build for this chip can talk over (the Kconfig "Communication interface" choice). */
  links: Array<'usb' | 'uart'>;
  /** RESERVE_PINS_* constants of a USB and of a UART build. */
  reservePins: { usb?: Record<string, string>; uart: Record<string, string> };
  /** Fastest hardware SPI clock the chip's SPI block gives (Hz); requests above are clamped. */
  maxSpiHz: number;
  /** shutdown() texts, per call site. */
  reasons: { badOutputPin: string; badInputPin: string; badSpiBus: string };
}

type BusTable = Array<[string, number, string]>;

const B14 = 'PB14,PB15,PB13';
const A6 = 'PA6,PA7,PA5';
const B4 = 'PB4,PB5,PB3';
const C2 = 'PC2,PC3,PB10';
const C11 = 'PC11,PC12,PC10';
const I2 = 'PI2,PI3,PI1';
const E13 = 'PE13,PE14,PE12';

/** src/stm32/spi.c, CONFIG_MACH_STM32F1. */
const STM32_F1_SPI: BusTable = [
  ['spi2_PB14_PB15_PB13', 0, B14],
  ['spi1_PA6_PA7_PA5', 1, A6],
  ['spi1_PB4_PB5_PB3', 2, B4],
  ['spi3_PB4_PB5_PB3', 3, B4],
  ['spi2', 0, B14],
  ['spi1', 1, A6],
  ['spi1a', 2, B4],
  ['spi3', 3, B4],
];

/** src/stm32/spi.c, CONFIG_MACH_STM32F4: spi4 only `#ifdef SPI4`, spi6 only `#ifdef SPI6`. */
function stm32F4Spi(hasSpi4: boolean, hasSpi6: boolean): BusTable {
  const t: BusTable = [
    ['spi2_PB14_PB15_PB13', 0, B14],
    ['spi1_PA6_PA7_PA5', 1, A6],
    ['spi1_PB4_PB5_PB3', 2, B4],
    ['spi2_PC2_PC3_PB10', 3, C2],
    ['spi3_PB4_PB5_PB3', 4, B4],
    ['spi3_PC11_PC12_PC10', 5, C11],
    ['spi2_PI2_PI3_PI1', 6, I2],
  ];
  if (hasSpi4) t.push(['spi4_PE13_PE14_PE12', 7, E13]);
  if (hasSpi6) t.push(['spi6_PG12_PG14_PG13', hasSpi4 ? 8 : 7, 'PG12,PG14,PG13']);
  // Deprecated "spi1" style mappings
  t.push(['spi2', 0, B14], ['spi1', 1, A6], ['spi1a', 2, B4], ['spi2a', 3, C2], ['spi3', 4, B4], ['spi3a', 5, C11], ['spi2b', 6, I2]);
  if (hasSpi4) t.push(['spi4', 7, E13]);
  return t;
}

/** src/stm32/spi.c, CONFIG_MACH_STM32G0 (the STM32G0B0/G0B1 headers define SPI3). */
const STM32_G0_SPI: BusTable = [
  ['spi2_PB14_PB15_PB13', 0, B14],
  ['spi1_PA6_PA7_PA5', 1, A6],
  ['spi1_PB4_PB5_PB3', 2, B4],
  ['spi2_PC2_PC3_PB10', 3, C2],
  ['spi2_PB2_PB11_PB10', 4, 'PB2,PB11,PB10'],
  ['spi2_PB6_PB7_PB8', 5, 'PB6,PB7,PB8'],
  ['spi3_PB4_PB5_PB3', 6, B4],
  ['spi3_PC11_PC12_PC10', 7, C11],
  ['spi2', 0, B14],
  ['spi1', 1, A6],
  ['spi1a', 2, B4],
  ['spi2a', 3, C2],
  ['spi3', 6, B4],
];

/** src/stm32/stm32h7_spi.c. */
const STM32_H7_SPI: BusTable = [
  ['spi2', 0, B14],
  ['spi1', 1, A6],
  ['spi1a', 2, B4],
  ['spi2a', 3, C2],
  ['spi3a', 4, C11],
  ['spi4', 5, E13],
  ['spi5', 6, 'PF8,PF9,PF7'],
  ['spi5a', 7, 'PH7,PF11,PH6'],
  ['spi6', 8, 'PG12,PG14,PG13'],
  ['spi2b', 9, I2],
];

/** src/lpc176x/spi.c. */
const LPC_SPI: BusTable = [
  ['ssp0', 0, 'P0.17,P0.18,P0.15'],
  ['ssp1', 1, 'P0.8,P0.9,P0.7'],
];

interface Stm32Chip {
  clock: number;
  /** GPIO ports the chip's CMSIS header defines (gpio.c declares those of PA..PI). */
  ports: string;
  spi: BusTable;
  sdio: boolean;
}

/** The STM32 chips of the catalog: Kconfig CLOCK_FREQ, header GPIO ports / SPIs, spi.c table. */
const STM32_CHIPS: Record<string, Stm32Chip> = {
  stm32f103xe: { clock: 72_000_000, ports: 'ABCDEFG', spi: STM32_F1_SPI, sdio: false },
  stm32f401xc: { clock: 84_000_000, ports: 'ABCDEH', spi: stm32F4Spi(true, false), sdio: true },
  stm32f405xx: { clock: 168_000_000, ports: 'ABCDEFGHI', spi: stm32F4Spi(false, false), sdio: true },
  stm32f407xx: { clock: 168_000_000, ports: 'ABCDEFGHI', spi: stm32F4Spi(false, false), sdio: true },
  // MACH_STM32F429 selects MACH_STM32F4x5: "default 168000000 if MACH_STM32F4x5".
  stm32f429xx: { clock: 168_000_000, ports: 'ABCDEFGHI', spi: stm32F4Spi(true, true), sdio: true },
  stm32f446xx: { clock: 180_000_000, ports: 'ABCDEFGH', spi: stm32F4Spi(true, false), sdio: true },
  stm32g0b0xx: { clock: 64_000_000, ports: 'ABCDEF', spi: STM32_G0_SPI, sdio: false },
  stm32g0b1xx: { clock: 64_000_000, ports: 'ABCDEF', spi: STM32_G0_SPI, sdio: false },
  stm32h723xx: { clock: 520_000_000, ports: 'ABCDEFGH', spi: STM32_H7_SPI, sdio: false },
  stm32h743xx: { clock: 400_000_000, ports: 'ABCDEFGHI', spi: STM32_H7_SPI, sdio: false },
};

/** Klipper MCU names the simulator has a profile for. */
export const PROFILED_MCUS: readonly string[] = [...Object.keys(STM32_CHIPS), 'lpc1768', 'lpc1769', 'hc32f460'];

/** GPIO(port, 0) = port index × 16 (src/stm32/gpio.h); ports missing from the chip are skipped. */
function stm32Pins(ports: string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const p of ports) out[`P${p}0`] = [(p.charCodeAt(0) - 65) * 16, 16];
  return out;
}

function busTable(t: BusTable): { buses: Record<string, number>; pins: Record<string, string> } {
  const buses: Record<string, number> = {};
  const pins: Record<string, string> = {};
  for (const [n, v, p] of t) {
    buses[n] = v;
    pins[`BUS_PINS_${n}`] = p;
  }
  return { buses, pins };
}

const STM32_REASONS = { badOutputPin: 'Not a valid pin', badInputPin: 'Not a valid pin', badSpiBus: 'Invalid spi bus' };

/** The profile for a Klipper MCU name ("stm32f446xx", "lpc1768", …). */
export function mcuProfile(mcu: string): McuProfile {
  const chip = STM32_CHIPS[mcu];
  if (chip) {
    const { buses, pins } = busTable(chip.spi);
    return {
      mcu,
      family: 'stm32',
      clockFreq: chip.clock,
      pinRanges: stm32Pins(chip.ports),
      spiBuses: buses,
      sdioBuses: chip.sdio ? { sdio: 0 } : {},
      busPins: chip.sdio ? { ...pins, BUS_PINS_sdio: 'PC12,PD2,PC8,PC9,PC10,PC11' } : pins,
      links: ['usb', 'uart'],
      reservePins: { usb: { RESERVE_PINS_USB: 'PA11,PA12' }, uart: { RESERVE_PINS_serial: 'PA10,PA9' } },
      maxSpiHz: Math.floor(chip.clock / 4),
      reasons: STM32_REASONS,
    };
  }
  if (mcu === 'lpc1768' || mcu === 'lpc1769') {
    const { buses, pins } = busTable(LPC_SPI);
    return {
      mcu,
      family: 'lpc176x',
      clockFreq: mcu === 'lpc1769' ? 120_000_000 : 100_000_000,
      pinRanges: { 'P0.0': [0, 32], 'P1.0': [32, 32], 'P2.0': [64, 32], 'P3.0': [96, 32], 'P4.0': [128, 32] },
      spiBuses: buses,
      sdioBuses: {},
      busPins: pins,
      links: ['usb', 'uart'],
      reservePins: { usb: { RESERVE_PINS_USB: 'P0.30,P0.29,P2.9' }, uart: { RESERVE_PINS_serial: 'P0.3,P0.2' } },
      maxSpiHz: 25_000_000,
      reasons: { badOutputPin: 'Not an output pin', badInputPin: 'Not an input pin', badSpiBus: 'Invalid spi_setup parameters' },
    };
  }
  if (mcu === 'hc32f460') {
    return {
      mcu,
      family: 'hc32f460',
      clockFreq: 168_000_000,
      // src/hc32f460/gpio.c: PA..PE, and PH2 alone (PortH = 5 in the HC32 driver's en_port_t).
      pinRanges: { PA0: [0, 16], PB0: [16, 16], PC0: [32, 16], PD0: [48, 16], PE0: [64, 16], PH2: [82, 1] },
      spiBuses: {},
      sdioBuses: {},
      busPins: {},
      // src/hc32f460/Kconfig offers serial interfaces only.
      links: ['uart'],
      reservePins: { uart: { RESERVE_PINS_serial: 'PA7,PA8' } },
      maxSpiHz: 0,
      reasons: STM32_REASONS,
    };
  }
  throw new UsageError('sim-unsupported-mcu', `the simulator has no model of the ${mcu} MCU`, {
    hint: `It simulates the MCUs Klipper builds for that boards of the catalog use: ${PROFILED_MCUS.join(', ')}. Pick a board with one of them.`,
  });
}

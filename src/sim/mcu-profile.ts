/**
 * What the simulated MCU knows about its chip: Klipper's MCU name, CLOCK_FREQ, pin and bus
 * enumerations and the shutdown texts its gpio/spi code uses. Values follow Klipper's
 * src/<arch>/Kconfig, gpio.c and spi.c for the families our boards use.
 */
export interface McuProfile {
  mcu: string;
  family: 'stm32' | 'lpc176x';
  clockFreq: number;
  /** Ranged pin enumeration entries ("PA0": [0, 16]). */
  pinRanges: Record<string, [number, number]>;
  spiBuses: Record<string, number>;
  sdioBuses: Record<string, number>;
  /** BUS_PINS_* constants. */
  busPins: Record<string, string>;
  /** Fastest hardware SPI clock the chip's SPI block gives (Hz); requests above are clamped. */
  maxSpiHz: number;
  /** shutdown() texts, per call site. */
  reasons: { badOutputPin: string; badInputPin: string; badSpiBus: string };
}

const STM32_F4_SPI: Array<[string, number, string]> = [
  ['spi2_PB14_PB15_PB13', 0, 'PB14,PB15,PB13'],
  ['spi1_PA6_PA7_PA5', 1, 'PA6,PA7,PA5'],
  ['spi1_PB4_PB5_PB3', 2, 'PB4,PB5,PB3'],
  ['spi2_PC2_PC3_PB10', 3, 'PC2,PC3,PB10'],
  ['spi3_PB4_PB5_PB3', 4, 'PB4,PB5,PB3'],
  ['spi3_PC11_PC12_PC10', 5, 'PC11,PC12,PC10'],
  ['spi2_PI2_PI3_PI1', 6, 'PI2,PI3,PI1'],
  ['spi4_PE13_PE14_PE12', 7, 'PE13,PE14,PE12'],
  // Deprecated short names, still declared by Klipper.
  ['spi2', 0, 'PB14,PB15,PB13'],
  ['spi1', 1, 'PA6,PA7,PA5'],
  ['spi1a', 2, 'PB4,PB5,PB3'],
  ['spi2a', 3, 'PC2,PC3,PB10'],
  ['spi3', 4, 'PB4,PB5,PB3'],
  ['spi3a', 5, 'PC11,PC12,PC10'],
  ['spi2b', 6, 'PI2,PI3,PI1'],
  ['spi4', 7, 'PE13,PE14,PE12'],
];

const STM32_F1_SPI: Array<[string, number, string]> = [
  ['spi2_PB14_PB15_PB13', 0, 'PB14,PB15,PB13'],
  ['spi1_PA6_PA7_PA5', 1, 'PA6,PA7,PA5'],
  ['spi1_PB4_PB5_PB3', 2, 'PB4,PB5,PB3'],
  ['spi3_PB4_PB5_PB3', 3, 'PB4,PB5,PB3'],
  ['spi2', 0, 'PB14,PB15,PB13'],
  ['spi1', 1, 'PA6,PA7,PA5'],
  ['spi1a', 2, 'PB4,PB5,PB3'],
  ['spi3', 3, 'PB4,PB5,PB3'],
];

const LPC_SPI: Array<[string, number, string]> = [
  ['ssp0', 0, 'P0.17,P0.18,P0.15'],
  ['ssp1', 1, 'P0.8,P0.9,P0.7'],
];

const STM32_CLOCKS: Array<[RegExp, number]> = [
  [/^stm32f0/, 48_000_000],
  [/^stm32f103/, 72_000_000],
  [/^stm32f207/, 120_000_000],
  [/^stm32f401/, 84_000_000],
  [/^stm32f40[57]/, 168_000_000],
  [/^stm32f429/, 180_000_000],
  [/^stm32f446/, 180_000_000],
  [/^stm32f765/, 216_000_000],
  [/^stm32g0/, 64_000_000],
  [/^stm32g4/, 170_000_000],
  [/^stm32h723/, 520_000_000],
  [/^stm32h743/, 400_000_000],
  [/^stm32h750/, 480_000_000],
];

function ranges(ports: string, width: number, name: (p: string, i: number) => string): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  [...ports].forEach((p, i) => (out[name(p, i)] = [i * width, width]));
  return out;
}

function busTable(t: Array<[string, number, string]>): { buses: Record<string, number>; pins: Record<string, string> } {
  const buses: Record<string, number> = {};
  const pins: Record<string, string> = {};
  for (const [n, v, p] of t) {
    buses[n] = v;
    pins[`BUS_PINS_${n}`] = p;
  }
  return { buses, pins };
}

/** The profile for a Klipper MCU name ("stm32f446xx", "lpc1768", …). */
export function mcuProfile(mcu: string): McuProfile {
  if (/^lpc17/.test(mcu)) {
    const { buses, pins } = busTable(LPC_SPI);
    return {
      mcu,
      family: 'lpc176x',
      clockFreq: mcu === 'lpc1769' ? 120_000_000 : 100_000_000,
      pinRanges: ranges('01234', 32, (p) => `P${p}.0`),
      spiBuses: buses,
      sdioBuses: {},
      busPins: pins,
      maxSpiHz: 25_000_000,
      reasons: { badOutputPin: 'Not an output pin', badInputPin: 'Not an input pin', badSpiBus: 'Invalid spi_setup parameters' },
    };
  }
  if (/^stm32/.test(mcu)) {
    const f4 = /^stm32f4/.test(mcu);
    const { buses, pins } = busTable(f4 ? STM32_F4_SPI : STM32_F1_SPI);
    const clock = STM32_CLOCKS.find(([re]) => re.test(mcu))?.[1] ?? 72_000_000;
    const ports = /^stm32h7/.test(mcu) ? 'ABCDEFGHIJK' : f4 || /^stm32f7/.test(mcu) ? 'ABCDEFGHI' : 'ABCDEFG';
    return {
      mcu,
      family: 'stm32',
      clockFreq: clock,
      pinRanges: ranges(ports, 16, (p) => `P${p}0`),
      spiBuses: buses,
      // Klipper builds src/stm32/sdio.c only for STM32F4 (HAVE_GPIO_SDIO).
      sdioBuses: f4 ? { sdio: 0 } : {},
      busPins: f4 ? { ...pins, BUS_PINS_sdio: 'PC12,PD2,PC8,PC9,PC10,PC11' } : pins,
      maxSpiHz: Math.floor(clock / 4),
      reasons: { badOutputPin: 'Not a valid pin', badInputPin: 'Not a valid pin', badSpiBus: 'Invalid spi bus' },
    };
  }
  throw new RangeError(`the simulator has no profile for MCU "${mcu}"`);
}

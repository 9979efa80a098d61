/**
 * Memory maps of the MCUs fwcard knows, and the application addresses Klipper's
 * `make menuconfig` offers on each ("Bootloader offset" choice). Facts from Klipper's
 * src/stm32/Kconfig (K-KC), src/lpc176x/Kconfig (K-KCL), src/hc32f460/Kconfig (K-KCH);
 * flash and RAM sizes from the same Kconfig files (Klipper's conservative values) where
 * Klipper states them, otherwise from the ST/NXP/HDSC data sheets (see docs/sources.md).
 */

export type McuFamily = 'stm32' | 'lpc176x' | 'hc32f460';

export interface McuMemory {
  /** Klipper's MCU identifier (the `MCU` constant of its data dictionary). */
  mcu: string;
  family: McuFamily;
  /** Where flash is mapped (0x08000000 on STM32/GD32, 0x0 on LPC176x and HC32F460). */
  flashBase: number;
  flashBytes: number;
  /** Main SRAM as Klipper links it; the initial stack pointer is its top. */
  ramStart: number;
  ramBytes: number;
  /** Klipper's default CONFIG_CLOCK_FREQ. */
  clockFreq: number;
  /** Number of external interrupts (vector table = 16 + this many words). */
  irqCount: number;
  /** Application addresses offered by Klipper's "Bootloader offset" menu (flashBase = none). */
  menuOffsets: number[];
}

const KIB = 1024;

// Menu entries per Kconfig condition (K-KC L287-338). Offsets relative to 0x08000000.
const F103_MENU = [0x0, 0x800, 0x1000, 0x2000, 0x4000, 0x5000, 0x7000, 0x8000, 0x8800, 0x9000, 0x10000];
const F401_MENU = [0x0, 0x4000, 0x8000, 0xc000, 0x10000];
const F4X5_MENU = [0x0, 0x4000, 0x8000, 0xc000, 0x10000, 0x20200];
const F4_MENU = [0x0, 0x8000, 0x10000]; // F429, F446
const F2_MENU = [0x0, 0x4000, 0x8000];
const F7_MENU = [0x0, 0x8000, 0x20000];
const G0_MENU = [0x0, 0x2000];
const G4_MENU = [0x0, 0x2000];
const H7_MENU = [0x0, 0x20000];
const H750_MENU = [0x0, 0x8000, 0x20000];
const F0X2_MENU = [0x0, 0x1000, 0x2000, 0x4000];
const F0_MENU = [0x0, 0x1000];
const F070_MENU = [0x0, 0x1000, 0x2000];

const stm32 = (mcu: string, flashKiB: number, ramKiB: number, clockFreq: number, irqCount: number, menu: number[]): McuMemory => ({
  mcu,
  family: 'stm32',
  flashBase: 0x08000000,
  flashBytes: flashKiB * KIB,
  ramStart: 0x20000000,
  ramBytes: ramKiB * KIB,
  clockFreq,
  irqCount,
  menuOffsets: menu.map((o) => 0x08000000 + o),
});

/**
 * Flash sizes are the largest part of each Klipper MCU class that boards in the catalog
 * carry (e.g. stm32f103xe = 512 KiB, F446 = 512 KiB); the board entry narrows it.
 */
export const MCU_MEMORY: McuMemory[] = [
  stm32('stm32f031x6', 32, 4, 48000000, 32, F0_MENU),
  stm32('stm32f042x6', 32, 6, 48000000, 32, F0X2_MENU),
  stm32('stm32f070xb', 128, 16, 48000000, 32, F070_MENU),
  stm32('stm32f072xb', 128, 16, 48000000, 32, F0X2_MENU),
  stm32('stm32f103xe', 512, 64, 72000000, 60, F103_MENU),
  stm32('stm32f207xx', 1024, 128, 120000000, 81, F2_MENU),
  stm32('stm32f401xc', 256, 64, 84000000, 85, F401_MENU),
  stm32('stm32f405xx', 1024, 128, 168000000, 82, F4X5_MENU),
  stm32('stm32f407xx', 1024, 128, 168000000, 82, F4X5_MENU),
  stm32('stm32f429xx', 2048, 192, 180000000, 91, F4_MENU),
  stm32('stm32f446xx', 512, 128, 180000000, 97, F4_MENU),
  stm32('stm32f765xx', 2048, 512, 216000000, 110, F7_MENU),
  stm32('stm32g070xx', 128, 36, 64000000, 32, G0_MENU),
  stm32('stm32g071xx', 128, 36, 64000000, 32, G0_MENU),
  stm32('stm32g0b0xx', 512, 144, 64000000, 32, G0_MENU),
  stm32('stm32g0b1xx', 512, 144, 64000000, 32, G0_MENU),
  stm32('stm32g431xx', 128, 32, 150000000, 102, G4_MENU),
  stm32('stm32g474xx', 512, 128, 150000000, 102, G4_MENU),
  stm32('stm32h723xx', 1024, 128, 400000000, 163, H7_MENU),
  stm32('stm32h743xx', 2048, 128, 400000000, 150, H7_MENU),
  // H750: 128 KiB documented flash, but Klipper links LENGTH = FLASH_SIZE (128 KiB) even above
  // its 128 KiB bootloader option (K-LDS), so the part's flash is modelled as 256 KiB.
  stm32('stm32h750xx', 256, 128, 400000000, 150, H750_MENU),
  stm32('stm32l412xx', 128, 40, 80000000, 83, [0x0]),
  {
    mcu: 'lpc1768', family: 'lpc176x', flashBase: 0x0, flashBytes: 512 * KIB, ramStart: 0x10000000, ramBytes: 0x7fe0,
    clockFreq: 100000000, irqCount: 35, menuOffsets: [0x0, 0x4000],
  },
  {
    mcu: 'lpc1769', family: 'lpc176x', flashBase: 0x0, flashBytes: 512 * KIB, ramStart: 0x10000000, ramBytes: 0x7fe0,
    clockFreq: 120000000, irqCount: 35, menuOffsets: [0x0, 0x4000],
  },
  {
    // HC32F460: flash at 0x0; the vendor bootloaders start the application at 0x8000/0xC000/0x10000 (K-KCH).
    mcu: 'hc32f460', family: 'hc32f460', flashBase: 0x0, flashBytes: 256 * KIB, ramStart: 0x1fff8000, ramBytes: 188 * KIB,
    clockFreq: 200000000, irqCount: 144, menuOffsets: [0x8000, 0xc000, 0x10000],
  },
];

export function mcuMemory(mcu: string): McuMemory | undefined {
  const m = mcu.toLowerCase();
  return MCU_MEMORY.find((x) => x.mcu === m);
}

/** All application addresses Klipper offers for a family (for images of unknown MCU). */
export function familyMenu(family: McuFamily): number[] {
  const all = new Set<number>();
  for (const m of MCU_MEMORY) if (m.family === family) for (const o of m.menuOffsets) all.add(o);
  return [...all].sort((a, b) => a - b);
}

/** Bootloader size in words people use: 0x08008000 → "32 KiB bootloader". */
export function describeAppStart(addr: number, family?: McuFamily): string {
  const base = family === 'stm32' || (family === undefined && addr >= 0x08000000) ? 0x08000000 : 0;
  const off = addr - base;
  if (off === 0) return 'no bootloader';
  if (off % KIB === 0) return `${off / KIB} KiB bootloader`;
  return `${Math.floor(off / KIB)} KiB + ${off % KIB} B bootloader`;
}

export function hex(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(8, '0');
}

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
  /** Klipper's CONFIG_FLASH_SIZE for the MCU class (what its linker script allows). */
  kconfigFlashBytes: number;
  /** Where the menu is stated. */
  kconfig: KconfigSource;
}

const KIB = 1024;

/** Where Klipper states a menu: the Kconfig file at the commit these facts were read from. */
export interface KconfigSource {
  /** Klipper repository path, e.g. "src/stm32/Kconfig". */
  file: string;
  /** Lines of the "Bootloader offset" / "Application Address" choice in that file. */
  lines: string;
  /** Klipper commit the facts were read at. */
  commit: string;
}

export const KLIPPER_COMMIT = '84104bbbd';
const KC_STM32: KconfigSource = { file: 'src/stm32/Kconfig', lines: '290-338', commit: KLIPPER_COMMIT };
const KC_LPC: KconfigSource = { file: 'src/lpc176x/Kconfig', lines: '65-75', commit: KLIPPER_COMMIT };
const KC_HC32: KconfigSource = { file: 'src/hc32f460/Kconfig', lines: '50-68', commit: KLIPPER_COMMIT };

// "Bootloader offset" entries of K-KC L287-338 per MCU, relative to 0x08000000. Each entry's
// `if` condition names Kconfig symbols: MACH_STM32F4x5 = F405, F407 and F429 (not the F446,
// which has only 32/64 KiB); MACH_STM32F0x2 = F042, F072; MACH_STM32F1 = F103 (and N32G45x).
const F031_MENU = [0x0, 0x1000]; // F0: 4 KiB
const F042_MENU = [0x0, 0x1000, 0x2000]; // F0 + F0x2: 4, 8 KiB
const F070_MENU = [0x0, 0x1000, 0x2000]; // F0 + F070: 4, 8 KiB
const F072_MENU = [0x0, 0x1000, 0x2000, 0x4000]; // F0 + F0x2 + F072: 4, 8, 16 KiB
const F103_MENU = [0x0, 0x800, 0x1000, 0x2000, 0x4000, 0x5000, 0x7000, 0x8000, 0x8800, 0x9000, 0x10000];
const F207_MENU = [0x0, 0x4000, 0x8000];
const F401_MENU = [0x0, 0x4000, 0x8000, 0xc000, 0x10000];
const F4X5_MENU = [0x0, 0x4000, 0x8000, 0xc000, 0x10000, 0x20200]; // F405, F407, F429
const F446_MENU = [0x0, 0x8000, 0x10000];
const F7_MENU = [0x0, 0x8000, 0x20000];
const G0_MENU = [0x0, 0x2000];
const G4_MENU = [0x0, 0x2000];
const H7_MENU = [0x0, 0x20000]; // H723, H743
const H750_MENU = [0x0, 0x8000, 0x20000];

const stm32 = (mcu: string, flashKiB: number, kconfigFlashKiB: number, ramKiB: number, clockFreq: number, irqCount: number, menu: number[]): McuMemory => ({
  mcu,
  family: 'stm32',
  flashBase: 0x08000000,
  flashBytes: flashKiB * KIB,
  kconfigFlashBytes: kconfigFlashKiB * KIB,
  ramStart: 0x20000000,
  ramBytes: ramKiB * KIB,
  clockFreq,
  irqCount,
  menuOffsets: menu.map((o) => 0x08000000 + o),
  kconfig: KC_STM32,
});

/**
 * Flash sizes are the largest part of each Klipper MCU class that boards in the catalog
 * carry (e.g. stm32f103xe = 512 KiB, F446 = 512 KiB); the board entry narrows it. The
 * Kconfig FLASH_SIZE (Klipper's conservative link limit) is kept beside it.
 */
export const MCU_MEMORY: McuMemory[] = [
  stm32('stm32f031x6', 32, 32, 4, 48000000, 32, F031_MENU),
  stm32('stm32f042x6', 32, 32, 6, 48000000, 32, F042_MENU),
  stm32('stm32f070xb', 128, 128, 16, 48000000, 32, F070_MENU),
  stm32('stm32f072xb', 128, 128, 16, 48000000, 32, F072_MENU),
  stm32('stm32f103xe', 512, 64, 64, 72000000, 60, F103_MENU),
  stm32('stm32f207xx', 1024, 256, 128, 120000000, 81, F207_MENU),
  stm32('stm32f401xc', 256, 256, 64, 84000000, 85, F401_MENU),
  stm32('stm32f405xx', 1024, 512, 128, 168000000, 82, F4X5_MENU),
  stm32('stm32f407xx', 1024, 512, 128, 168000000, 82, F4X5_MENU),
  stm32('stm32f429xx', 2048, 512, 192, 168000000, 91, F4X5_MENU),
  stm32('stm32f446xx', 512, 512, 128, 180000000, 97, F446_MENU),
  stm32('stm32f765xx', 2048, 2048, 512, 216000000, 110, F7_MENU),
  stm32('stm32g070xx', 128, 128, 36, 64000000, 32, G0_MENU),
  stm32('stm32g071xx', 128, 128, 36, 64000000, 32, G0_MENU),
  stm32('stm32g0b0xx', 512, 128, 144, 64000000, 32, G0_MENU),
  stm32('stm32g0b1xx', 512, 128, 144, 64000000, 32, G0_MENU),
  stm32('stm32g431xx', 128, 128, 32, 170000000, 102, G4_MENU),
  stm32('stm32g474xx', 512, 256, 128, 170000000, 102, G4_MENU),
  stm32('stm32h723xx', 1024, 256, 128, 520000000, 163, H7_MENU),
  stm32('stm32h743xx', 2048, 2048, 128, 400000000, 150, H7_MENU),
  // H750: 128 KiB documented flash, but Klipper links LENGTH = FLASH_SIZE (128 KiB) even above
  // its 128 KiB bootloader option (K-LDS), so the part's flash is modelled as 256 KiB.
  stm32('stm32h750xx', 256, 128, 128, 480000000, 150, H750_MENU),
  stm32('stm32l412xx', 128, 64, 40, 80000000, 83, [0x0]),
  {
    mcu: 'lpc1768', family: 'lpc176x', flashBase: 0x0, flashBytes: 512 * KIB, kconfigFlashBytes: 512 * KIB, ramStart: 0x10000000, ramBytes: 0x7fe0,
    clockFreq: 100000000, irqCount: 35, menuOffsets: [0x0, 0x4000], kconfig: KC_LPC,
  },
  {
    mcu: 'lpc1769', family: 'lpc176x', flashBase: 0x0, flashBytes: 512 * KIB, kconfigFlashBytes: 512 * KIB, ramStart: 0x10000000, ramBytes: 0x7fe0,
    clockFreq: 120000000, irqCount: 35, menuOffsets: [0x0, 0x4000], kconfig: KC_LPC,
  },
  {
    // HC32F460: flash at 0x0; the vendor bootloaders start the application at 0x8000/0xC000/0x10000 (K-KCH).
    // Klipper offers no "No bootloader" entry for it.
    mcu: 'hc32f460', family: 'hc32f460', flashBase: 0x0, flashBytes: 256 * KIB, kconfigFlashBytes: 256 * KIB, ramStart: 0x1fff8000, ramBytes: 188 * KIB,
    clockFreq: 200000000, irqCount: 144, menuOffsets: [0x8000, 0xc000, 0x10000], kconfig: KC_HC32,
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

/**
 * Bootloader size in words people use: 0x08008000 → "32 KiB bootloader". Measured from the
 * start of the flash the address lies in (0x08000000 or 0x0), never from another family's.
 */
export function describeAppStart(addr: number, _family?: McuFamily): string {
  const base = addr >= 0x08000000 ? 0x08000000 : 0;
  const off = addr - base;
  if (off === 0) return 'no bootloader';
  if (off % KIB === 0) return `${off / KIB} KiB bootloader`;
  return `${Math.floor(off / KIB)} KiB + ${off % KIB} B bootloader`;
}

export function hex(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(8, '0');
}

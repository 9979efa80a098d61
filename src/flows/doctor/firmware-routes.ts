/**
 * Which firmware file doctor's commands may name. A build the plan calls wrong must never
 * appear in a command that puts it on a card or writes it at the application address
 * (issue 14: doctor printed `prepare … --firmware <that build>`, which prepare refuses, and
 * `dfu-util -s 0x08008000:leave -D <a build linked for 0x08000000>`, which does not boot).
 * After "rebuild", the commands name the rebuilt file. The one honest use of a "No bootloader"
 * build is to write it at the start of flash over the ROM loader, replacing the SD bootloader.
 */
import type { Board } from '../../boards/types.js';
import type { Remedy } from '../../errors.js';
import type { FirmwareReport } from '../../firmware/index.js';
import { hex, mcuMemory } from '../../firmware/mcu-memory.js';
import type { DoctorStep } from '../doctor.js';
import { pasteLine } from './paste-line.js';
import { recoveryPlan, STM32_DFU_ID } from './recovery.js';

export { pasteLine };

/** Where `make` in a Klipper checkout in the home directory puts the build. */
export const DEFAULT_BUILD = '~/klipper/out/klipper.bin';

/** The placeholder check's remedies use when no firmware was given to it. */
export const FIRMWARE_PLACEHOLDER = '<firmware.bin>';

/** The remedy's argv with the firmware placeholder (and a replaced build) swapped for `use`. */
export function withFirmware(r: Remedy | string[], use: string, replace: string[] = []): string[] {
  const argv = Array.isArray(r) ? r : r.argv;
  return argv.map((w) => (w === FIRMWARE_PLACEHOLDER || replace.includes(w) ? use : w));
}

/** A build linked to run from the start of flash: meant for dfu-util/ST-Link, replaces the bootloader. */
export function isNoBootloaderBuild(board: Board, r: FirmwareReport): boolean {
  const base = mcuMemory(board.mcu)?.flashBase ?? (r.family === 'stm32' ? 0x08000000 : 0);
  return r.flashStart === base || (r.flashStart === null && r.candidates.length > 0 && r.candidates.every((c) => c === base));
}

/**
 * Route (b) for a "No bootloader" build: keep it and write it at the flash base over the chip's
 * ROM loader. Honest about the price: the SD bootloader is overwritten, so the card no longer
 * updates the board until the stock bootloader is restored. Null when fwcard knows no ROM tool.
 */
export function keepBuildStep(board: Board, build: string): DoctorStep | null {
  const r = recoveryPlan(board);
  if (r.flashBase === null || r.tool === null) return null;
  const base = hex(r.flashBase);
  const b = pasteLine([build]);
  const commands: Record<NonNullable<typeof r.tool>, string[]> = {
    'dfu-util': ['dfu-util -l', `dfu-util -a 0 -d ${STM32_DFU_ID} -s ${base}:leave -D ${b}`],
    'st-flash': [`st-flash --reset write ${b} ${base}`],
    lpc21isp: [`lpc21isp -bin ${b} /dev/ttyUSB0 115200 12000`],
  };
  const how = r.tool === 'dfu-util' ? `over USB in the chip's ROM DFU mode (BOOT0 jumper fitted, reset; \`dfu-util -l\` lists ${STM32_DFU_ID})` : r.tool === 'st-flash' ? 'with an ST-Link on the SWD pins (the chip has no USB DFU in ROM)' : "over the chip's ROM ISP loader on UART0";
  return {
    id: 'keep-build-rom-loader',
    kind: 'if-needed',
    title: `Or keep this build: write it at ${base} ${r.tool === 'dfu-util' ? 'over ROM DFU' : `with ${r.tool}`} (this replaces the stock bootloader)`,
    details: [
      `${build} is linked for ${base}, the start of flash, where the ${board.name}'s SD-card bootloader lives. Written there ${how}, it runs, and the stock bootloader is gone.`,
      'From then on the card no longer updates the board: every update goes the same way, until you restore the stock bootloader (the last step).',
      ...(r.tool === 'dfu-util' ? ['dfu-util may say "Invalid DFU suffix signature" / "A valid DFU suffix will be required in a future dfu-util release": harmless, a .bin has no DFU suffix.'] : []),
    ],
    commands: commands[r.tool],
    resolves: [],
  };
}

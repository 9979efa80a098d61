/**
 * The "stock bootloader erased" story: a "No bootloader" build flashed with dfu-util or an
 * ST-Link (or a mass erase) overwrote the SD bootloader at the start of flash, so the board
 * ignores every card. The way back is the chip's ROM loader: put the vendor's bootloader at
 * the flash base, then Klipper at the board's application address.
 */
import type { Board, BootloaderImage } from '../../boards/types.js';
import { hex, mcuMemory } from '../../firmware/mcu-memory.js';
import type { DoctorStep } from '../doctor.js';
import { pasteLine } from './paste-line.js';

export interface Recovery {
  /** The ROM-loader tool the commands use; null when fwcard knows none for this MCU. */
  tool: 'dfu-util' | 'st-flash' | 'lpc21isp' | null;
  /** Where the bootloader goes (start of flash). */
  flashBase: number | null;
  /** Where the bootloader starts the application (the catalog's appStart). */
  appStart: number | null;
  /** The vendor's stock bootloader image (the catalog's sourced fact); null: not known. */
  bootloaderImage: BootloaderImage | null;
  /** Source keys of that fact. */
  bootloaderSources: string[];
}

/**
 * STM32 parts whose ROM (system memory) bootloader speaks USB DFU (ST AN2606): F0x2/F070,
 * F2, F4, F7, G0B0/G0B1, G4, H7. The F103 and the small G0s have no USB DFU in ROM.
 */
export function hasRomUsbDfu(mcu: string): boolean {
  return /^stm32(f04|f07|f2|f4|f7|g0b|g4|h7)/i.test(mcu);
}

/** ST's ROM DFU device, as `dfu-util -l` lists it. */
export const STM32_DFU_ID = '0483:df11';

export function recoveryPlan(board: Board): Recovery {
  const mem = mcuMemory(board.mcu);
  const family = mem?.family ?? null;
  const tool = family === 'stm32' ? (hasRomUsbDfu(board.mcu) ? 'dfu-util' : 'st-flash') : family === 'lpc176x' ? 'lpc21isp' : null;
  return { tool, flashBase: mem?.flashBase ?? null, appStart: board.appStart.value[0] ?? null, bootloaderImage: board.bootloaderImage?.value ?? null, bootloaderSources: board.bootloaderImage?.sources ?? [] };
}

/** The commands that put the bootloader back and (optionally) Klipper after it. */
export function recoveryCommands(r: Recovery, firmware: string, image = '<stock-bootloader.bin>'): string[] {
  if (r.flashBase === null) return [];
  firmware = pasteLine([firmware]);
  const base = hex(r.flashBase);
  const app = r.appStart === null ? null : hex(r.appStart);
  switch (r.tool) {
    case 'dfu-util':
      return ['dfu-util -l', `dfu-util -a 0 -d ${STM32_DFU_ID} -s ${base} -D ${image}`, ...(app ? [`dfu-util -a 0 -d ${STM32_DFU_ID} -s ${app}:leave -D ${firmware}`] : [])];
    case 'st-flash':
      return [`st-flash write ${image} ${base}`, ...(app ? [`st-flash --reset write ${firmware} ${app}`] : [])];
    case 'lpc21isp':
      // The LPC176x ISP loader takes one image from address 0: the bootloader; Klipper then goes on by card.
      return [`lpc21isp -bin ${image} /dev/ttyUSB0 115200 12000`];
    default:
      return [];
  }
}

/**
 * dfu-util's warning on every plain .bin: "Invalid DFU suffix signature" / "A valid DFU suffix
 * will be required in a future dfu-util release!". A DFU suffix is 16 bytes some tools append
 * to a file (vendor/product ids and a CRC); a .bin built by make has none, and dfu-util then
 * writes the file all the same.
 */
export const DFU_SUFFIX_NOTE = 'dfu-util prints "Invalid DFU suffix signature" and "A valid DFU suffix will be required in a future dfu-util release": harmless, the .bin simply has no DFU suffix (16 bytes some tools append); the write goes on. Look for "File downloaded successfully" at the end.';

/**
 * Getting the image ready: download it, and turn a .hex into the .bin dfu-util and st-flash take.
 * `fwcard inspect --to-bin` lays the hex records out from the lowest address, the flash base, as
 * `objcopy -I ihex -O binary` does and the ROM loaders expect.
 */
export function imageCommands(board: Board, img: BootloaderImage): { commands: string[]; bin: string } {
  // A link is downloaded under a plain name; a file the user recorded (--boards-file) is used where it is.
  const remote = /^https?:\/\//.test(img.url);
  const local = remote ? `${board.name}-bootloader.${img.format}` : img.url;
  const download = remote ? [pasteLine(['wget', '-O', local, img.url])] : [];
  if (img.format === 'bin') return { commands: download, bin: local };
  const bin = remote ? `${board.name}-bootloader.bin` : local.replace(/\.hex$/i, '.bin');
  return { commands: [...download, pasteLine(['fwcard', 'inspect', local, '--to-bin', bin])], bin };
}

export function recoveryStep(board: Board, firmware: string): DoctorStep & { recovery: Recovery } {
  const r = recoveryPlan(board);
  const fw = firmware;
  const details = [
    `If the board ignores the card (the file is not renamed or removed after power-up, the display does not change), the stock bootloader may have been erased, usually by flashing a "No bootloader" build with dfu-util or an ST-Link. The bootloader lives at the start of flash${r.flashBase === null ? '' : ` (${hex(r.flashBase)})`}; it starts the firmware at ${r.appStart === null ? 'an address the catalog does not know' : hex(r.appStart)}.`,
  ];
  const img = r.bootloaderImage;
  const fact = board.bootloaderImage;
  const ready = img && r.flashBase !== null ? imageCommands(board, img) : null;
  if (img && fact) {
    const where = img.repository ? `${img.path} in github.com/${img.repository}` : img.url;
    details.push(`The stock bootloader: ${where} (${fact.confidence}${fact.sources.length ? `, sources ${fact.sources.join(', ')}` : ''}${fact.note ? `; ${fact.note}` : ''}).`);
    if (img.format === 'hex') details.push(`It is Intel HEX: fwcard inspect … --to-bin turns it into the .bin dfu-util and st-flash write (byte for byte what arm-none-eabi-objcopy -I ihex -O binary makes); the .bin starts at ${hex(img.address ?? r.flashBase ?? 0)} and is the bootloader's size (tens of KiB), nothing more.`);
  }
  if (!img) details.push(
      `Where ${board.vendor} publishes the stock bootloader image for the ${board.name} is not known to fwcard: ask ${board.vendor} (support, or the board's repository). Once you have it, \`--boards-file\` can record it ({"name": "${board.name}", "bootloaderImage": "<where>"}).`,
  );
  switch (r.tool) {
    case 'dfu-util':
      details.push(
        `Put the ${board.mcu} in its ROM DFU mode: fit the BOOT0 jumper (or hold BOOT0), connect USB, press reset; \`dfu-util -l\` must list ${STM32_DFU_ID}.`,
        `Write the bootloader at ${hex(img?.address ?? r.flashBase!)}, then Klipper at ${r.appStart === null ? 'the application address' : hex(r.appStart)} (built with that bootloader offset); remove the BOOT0 jumper and power-cycle. From then on the card works again.`,
        DFU_SUFFIX_NOTE,
      );
      break;
    case 'st-flash':
      details.push(
        `The ${board.mcu} has no USB DFU in ROM: connect an ST-Link to the SWD pins (SWDIO, SWCLK, GND) and write the bootloader at ${hex(r.flashBase!)}, then Klipper at ${r.appStart === null ? 'the application address' : hex(r.appStart)}.`,
        `Without an ST-Link: the ROM loader on USART1 (BOOT0 high, reset) with \`stm32flash -w ${pasteLine([ready?.bin ?? '<stock-bootloader.bin>'])} -v -S ${hex(r.flashBase!)} /dev/ttyUSB0\`.`,
      );
      break;
    case 'lpc21isp':
      details.push('The LPC176x ROM ISP loader listens on UART0 when ISP (P2.10) is held low at reset: write the bootloader, reset, then put Klipper on the card.');
      break;
    default:
      details.push(`fwcard knows no ROM loader tool for the ${board.mcu}: use ${board.vendor}'s flashing tool.`);
  }
  return { id: 'restore-bootloader', kind: 'if-needed', title: 'If the board ignores the card: restore the stock bootloader', details, commands: [...(ready?.commands ?? []), ...recoveryCommands(r, fw, ready?.bin ?? '<stock-bootloader.bin>')], resolves: [], recovery: r };
}

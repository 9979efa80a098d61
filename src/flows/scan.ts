/**
 * `fwcard scan`: every USB device and serial port this machine sees, each classified by what it
 * says about a printer board (ROM DFU loader, Klipper with its MCU, Katapult, USB-UART bridge,
 * card reader, …), what that state means and the next step. When no board is seen, the reasons
 * that leave a board invisible, in the order worth checking. Read only; plain data out.
 */
import { classify, type Scan, type ScannedDevice } from '../usb/classify.js';
import type { DeviceKind } from '../usb/known-devices.js';
import { readSysfs } from '../usb/sysfs.js';

export type { ScannedDevice } from '../usb/classify.js';

/** The states in which a printer board shows itself. */
const BOARD_KINDS: ReadonlySet<DeviceKind> = new Set(['rom-dfu', 'rp2040-boot', 'lpc-dfu', 'klipper', 'klipper-usb-can', 'katapult', 'usb-uart', 'serial-device']);

export interface ScanResult {
  ok: true;
  /** False when there was no sysfs USB tree to read (not Linux): nothing could be seen. */
  available: boolean;
  devices: ScannedDevice[];
  /** How many devices look like a printer board (any state above, not card readers or UARTs). */
  boards: number;
  /** When no board is seen: what to check, most likely first. Empty otherwise. */
  nothingFound: string[];
}

/** Why a board does not show up on USB, most likely first. */
export const NOTHING_FOUND: readonly string[] = [
  'Power: many boards do not power their MCU from USB alone (a USB-power jumper, e.g. "VUSB"/"U5V", or 12/24 V is needed); an LED on the board should be lit.',
  'The cable: many USB cables carry power only. Use one known to carry data (it works for a phone\'s file transfer), straight into this machine, not through an unpowered hub.',
  'Watch the kernel while you plug it in: `sudo dmesg -w` (or `journalctl -kf`). No line at all: power or cable; "device descriptor read error": cable or port.',
  'Firmware that does not start shows nothing: a build with the wrong Bootloader offset (the SD bootloader jumps to where nothing is), or Klipper built for a serial port (USART/CAN) instead of USB, or for the wrong processor. `fwcard doctor --board <your-board> --firmware <build>` checks a build.',
  'A board wired over its UART (e.g. to the GPIO pins of a Pi or CB1) never shows on USB: look for its port in the list (ttyS*, ttyAMA*).',
  'To write it anyway: fit the BOOT0 jumper (or hold BOOT0) and press reset; an STM32 with USB DFU in ROM then shows as 0483:df11 here, and `fwcard doctor --board <your-board>` prints the dfu-util commands.',
];

export function summarize(scan: Scan): ScanResult {
  const boards = scan.devices.filter((d) => BOARD_KINDS.has(d.kind)).length;
  return { ok: true, available: scan.available, devices: scan.devices, boards, nothingFound: boards ? [] : [...NOTHING_FOUND] };
}

export function scan(): ScanResult {
  return summarize(classify(readSysfs()));
}

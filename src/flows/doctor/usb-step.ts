/**
 * What `fwcard scan` sees, for doctor's plan: the board's state on USB (ROM DFU, Klipper and on
 * which MCU, Katapult, behind a USB-UART bridge) and the next step, or, when nothing shows up,
 * what to check. Given a --port, whether that port is there and what answers on it.
 */
import type { Board } from '../../boards/types.js';
import type { ScanResult, ScannedDevice } from '../scan.js';
import type { DoctorStep } from '../doctor.js';
import { DFU_SUFFIX_NOTE } from './recovery.js';

const BOARD_KINDS = new Set(['rom-dfu', 'rp2040-boot', 'lpc-dfu', 'klipper', 'klipper-usb-can', 'katapult', 'usb-uart', 'serial-device']);

const name = (d: ScannedDevice): string => d.byId[0] ?? d.ports[0] ?? (d.usb ? `USB ${d.usb.path} (${d.usb.id})` : d.title);

function line(d: ScannedDevice, board: Board): string {
  const what = `${d.title}${d.mcu ? ` on a ${d.mcu}` : ''}${d.chip?.family ? ` (${d.chip.family})` : ''}`;
  const other = d.mcu && d.mcu !== board.mcu ? ` This is not the ${board.name}'s ${board.mcu}: another board, or a build for the wrong processor.` : '';
  return `${name(d)}: ${what}. ${d.meaning}${other}`;
}

/** The Klipper device of this board's MCU, when exactly one is on USB. */
export function klipperPortOf(board: Board, scan: ScanResult): string | null {
  const mine = scan.devices.filter((d) => d.kind === 'klipper' && d.mcu === board.mcu && (d.byId.length || d.ports.length));
  return mine.length === 1 ? name(mine[0]!) : null;
}

export function usbStep(board: Board, scan: ScanResult, port: string | null): DoctorStep {
  const step = (kind: DoctorStep['kind'], title: string, details: string[], commands: string[]): DoctorStep => ({ id: 'usb-scan', kind, title, details, commands, resolves: [] });
  if (!scan.available) {
    return step('do', 'Look for the board on USB', ['fwcard could not read USB devices here (no /sys/bus/usb): run `fwcard scan` on the machine the board is plugged into.'], ['fwcard scan']);
  }
  const boards = scan.devices.filter((d) => BOARD_KINDS.has(d.kind));
  const uarts = scan.devices.filter((d) => d.kind === 'uart');
  if (port) {
    const at = scan.devices.find((d) => d.ports.includes(port) || d.byId.includes(port));
    if (at) {
      return step('do', `${port}: ${at.title}${at.mcu ? ` on a ${at.mcu}` : ''}`, [line(at, board), ...at.next], ['fwcard scan']);
    }
    const seen = boards.length ? ['What is on USB instead:', ...boards.map((d) => line(d, board))] : ['Nothing that looks like a printer board is on USB. What to check, most likely first:', ...scan.nothingFound];
    return step('fix', `The board is not found at ${port}`, [`${port} does not exist now${port.includes('by-id') ? ': the by-id name changes with the firmware (usb-Klipper_…, usb-katapult_…) and is gone while the board is in DFU mode' : ''}.`, ...seen], ['fwcard scan', 'ls -l /dev/serial/by-id/']);
  }
  if (!boards.length) {
    const wired = uarts.length ? [`Serial ports of this machine (a board wired to its UART shows nothing on USB): ${uarts.map((u) => u.ports[0]).join(', ')}.`] : [];
    return step('do', 'No board on USB: what to check', ['Nothing that looks like a printer board is on USB (no ROM DFU loader, no Klipper, no Katapult, no USB-serial chip). Most likely first:', ...scan.nothingFound, ...wired], ['fwcard scan', 'sudo dmesg -w']);
  }
  const dfu = boards.filter((d) => d.kind === 'rom-dfu');
  const title =
    boards.length === 1
      ? `On USB now: ${boards[0]!.title}${boards[0]!.mcu ? ` on a ${boards[0]!.mcu}` : ''}`
      : `On USB now: ${boards.length} devices that may be the board`;
  // A ROM loader's own next step is this plan's last step: say what matters here instead.
  const details = boards.flatMap((d) => [line(d, board), ...(d.kind === 'rom-dfu' ? [] : d.next.slice(0, 1))]);
  if (dfu.length) details.push('In ROM DFU mode the SD-card bootloader does not run, so the card is not read: write with dfu-util (the last step), then remove the BOOT0 jumper and power-cycle.', DFU_SUFFIX_NOTE);
  return step('do', title, details, ['fwcard scan', ...(dfu.length ? ['dfu-util -l'] : [])]);
}

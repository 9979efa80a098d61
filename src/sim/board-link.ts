import type { Board } from '../boards/types.js';
import { mcuProfile } from './mcu-profile.js';

/**
 * Boards whose Klipper build talks to the host over a UART (a USB-serial converter on the
 * board), with the Klipper config file whose header says to build "Serial (on USART…)"
 * (config/<file> at Klipper commit 84104bbbd). Every other board with a USB-capable MCU uses
 * USB: the first "Communication interface" choice of src/stm32/Kconfig ("USB (on PA11/PA12)")
 * and src/lpc176x/Kconfig ("USB"), which is what a build gets by default. An MCU whose Klipper
 * port has no USB (HC32F460: src/hc32f460/Kconfig offers serial only) always uses a UART.
 */
const UART_BOARDS: Record<string, string> = {
  'creality-v4.2.2': 'generic-creality-v4.2.7.cfg, printer-creality-ender3-v2-2020.cfg',
  'creality-ender3-s1-f401': 'printer-creality-ender3-s1-2021.cfg',
  'creality-ender3-s1-f103': 'printer-creality-ender3-s1-2021.cfg',
  'creality-cr10-smart-pro': 'printer-creality-cr10-smart-pro-2022.cfg',
  'creality-sermoon-v1': 'printer-creality-sermoonV1-2022.cfg',
  'mks-robin-v12': 'generic-mks-robin-nano-v2.cfg',
  'mks-robin-e3': 'generic-mks-robin-e3.cfg',
  'mks-robin-mini': 'printer-flsun-qqs-2020.cfg',
  'chitu-v6': 'printer-tronxy-x5sa-v6-2019.cfg',
  'tronxy-crux1': 'printer-tronxy-crux1-2022.cfg',
  'znp-robin-nano-dw-v2.2': 'printer-elegoo-neptune3-pro-2023.cfg',
  'elegoo-neptune2-znp-v1.2': 'printer-elegoo-neptune2-2021.cfg',
  'elegoo-neptune2-znp-v1.3': 'printer-elegoo-neptune2-2021.cfg',
  'sovol-sv06': 'printer-sovol-sv06-2022.cfg',
  'anycubic-vyper': 'printer-anycubic-vyper-2021.cfg',
  'alfawise-u30': 'printer-alfawise-u30-2018.cfg',
  'longer-lk4x': 'printer-longer-lk4x-2022.cfg',
};

/** How the board's Klipper build reaches the host: 'usb' or 'uart'. */
export function boardLink(board: Board): 'usb' | 'uart' {
  if (UART_BOARDS[board.name] !== undefined) return 'uart';
  let links: Array<'usb' | 'uart'>;
  try {
    links = mcuProfile(board.klipper?.mcu ?? board.mcu).links;
  } catch {
    return 'uart';
  }
  return links.includes('usb') ? 'usb' : 'uart';
}

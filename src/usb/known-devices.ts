/**
 * The USB ids a 3D-printer board shows up as, by what it is running, with where each id is
 * stated. Data only: `classify.ts` reads it. Each entry's `meaning` is what that state tells
 * the user and `next` what to do from there, in the user's words.
 */

export type DeviceKind =
  | 'rom-dfu'
  | 'rp2040-boot'
  | 'lpc-dfu'
  | 'klipper'
  | 'klipper-usb-can'
  | 'katapult'
  | 'usb-uart'
  | 'card-reader'
  | 'serial-device'
  | 'uart'
  | 'other';

export interface KnownDevice {
  /** "vvvv:pppp", lower case. */
  id: string;
  kind: DeviceKind;
  title: string;
  meaning: string;
  next: string[];
  /** Where the id and its meaning are stated. */
  sources: string[];
}

const KLIPPER_SRC = 'Klipper src/Kconfig (USB_VENDOR_ID 0x1d50, USB_DEVICE_ID 0x614e); src/generic/usb_cdc.c (manufacturer "Klipper", product CONFIG_MCU, serial from the chip id)';
const FLASH_USB = 'Klipper scripts/flash_usb.py (the "bootloader mode" ids make flash accepts)';
const USB_IDS = (entry: string): string => `usb.ids (linux-usb.org) ${entry}`;

const BRIDGE_MEANING =
  "A USB-to-serial bridge chip. Many boards (Creality 4.2.x, older MKS and BTT SKR mini) wire their USB socket to one: it is there whether the board's MCU runs Klipper, Marlin, a bootloader or nothing, so it says nothing about the firmware.";
const BRIDGE_NEXT = [
  'Ask the board what it runs: `fwcard mcu-info <port>` (Klipper answers at 250000 baud).',
  'If Klipper answers: put the /dev/serial/by-id name in printer.cfg ([mcu] serial:).',
];

export const KNOWN_DEVICES: readonly KnownDevice[] = [
  {
    id: '0483:df11',
    kind: 'rom-dfu',
    title: 'STM32 ROM DFU loader',
    meaning:
      'The board is in the ROM bootloader of its STM32 (BOOT0 was high at reset): it can be written with dfu-util. Neither Klipper nor the SD-card bootloader is running.',
    next: [
      '`dfu-util -l` lists it; `fwcard doctor --board <your-board>` prints the exact dfu-util commands (stock bootloader at 0x08000000, Klipper at the application address).',
      'dfu-util\'s "Invalid DFU suffix signature" warning is harmless: a .bin has no DFU suffix.',
      'Then remove the BOOT0 jumper (or release BOOT0) and power-cycle, or the board comes back here.',
    ],
    sources: ['ST UM0424/AN3156 (USB DFU protocol of the STM32 system memory bootloader, id 0483:df11)', FLASH_USB, USB_IDS('0483 df11 "STM Device in DFU Mode"')],
  },
  {
    id: '28e9:0189',
    kind: 'rom-dfu',
    title: 'GD32 ROM DFU loader',
    meaning: 'A GigaDevice GD32 in its ROM bootloader (BOOT0 was high at reset): it can be written with dfu-util. Klipper is not running.',
    next: ['`dfu-util -l` lists it; write with `dfu-util -d 28e9:0189 -a 0 -s <address>:leave -D <file.bin>`.', 'Then remove the BOOT0 jumper and power-cycle.'],
    sources: [USB_IDS('28e9 GDMicroelectronics, 0189 "GD32 DFU Bootloader (Longan Nano)"')],
  },
  {
    id: '2e8a:0003',
    kind: 'rp2040-boot',
    title: 'RP2040 ROM boot (BOOTSEL)',
    meaning: 'An RP2040 in its ROM boot mode (BOOTSEL held at power-up): it takes a firmware over USB. Klipper is not running.',
    next: ['From ~/klipper: `make flash FLASH_DEVICE=2e8a:0003`.'],
    sources: ['Klipper docs/Config_Changes.md and scripts/flash_usb.py (make flash FLASH_DEVICE=2e8a:0003)', USB_IDS('2e8a 0003 "RP2 Boot"')],
  },
  {
    id: '1d50:6015',
    kind: 'lpc-dfu',
    title: 'LPC176x DFU bootloader (Smoothieboard)',
    meaning:
      'An LPC176x board in the USB DFU mode of its SD bootloader (Smoothieware\'s LPC17xx-DFU-Bootloader and its derivatives): it can be written with dfu-util. Klipper is not running.',
    next: ['From ~/klipper: `make flash FLASH_DEVICE=1d50:6015`, or put the build on the card as firmware.bin and reset.'],
    sources: [FLASH_USB, USB_IDS('1d50 6015 "Smoothieboard"')],
  },
  {
    id: '1d50:614e',
    kind: 'klipper',
    title: 'Klipper',
    meaning: 'Klipper is running on the board and talks over USB.',
    next: ['Put its /dev/serial/by-id name in printer.cfg ([mcu] serial:).', 'Update it through the card: `fwcard flash-sdcard <by-id name> <your-board>`.'],
    sources: [KLIPPER_SRC],
  },
  {
    id: '1d50:606f',
    kind: 'klipper-usb-can',
    title: 'Klipper USB-to-CAN bridge (gs_usb)',
    meaning: 'Klipper is running as a USB-to-CAN bridge: the board shows up as the network interface can0, not as a serial port.',
    next: ['`ip link show can0`; list the CAN nodes with `~/klippy-env/bin/python ~/klipper/scripts/canbus_query.py can0`.'],
    sources: ['Klipper src/generic/usb_canbus.c (USB_GSUSB_1_PRODUCT_ID 0x606f)'],
  },
  {
    id: '1d50:6177',
    kind: 'katapult',
    title: 'Katapult bootloader',
    meaning: 'The Katapult (formerly CanBoot) bootloader is waiting for a firmware: Klipper is not running.',
    next: [
      'Write Klipper built with Katapult\'s offset: `python3 ~/klipper/lib/katapult/flashtool.py -d <by-id name> -f ~/klipper/out/klipper.bin`.',
      'Katapult stays in charge of updates: the SD-card bootloader, if the board had one, is no longer used.',
    ],
    sources: ['Moonraker moonraker/utils/sysfs_devs.py (Katapult\'s author: "1d50:6177 Katapult Bootloader (CDC_ACM)")', 'Klipper docs/Bootloaders.md (lib/katapult/flashtool.py)'],
  },
  { id: '1a86:7523', kind: 'usb-uart', title: 'USB-UART bridge CH340', meaning: BRIDGE_MEANING, next: BRIDGE_NEXT, sources: [USB_IDS('1a86 7523 "CH340 serial converter"')] },
  { id: '1a86:55d4', kind: 'usb-uart', title: 'USB-UART bridge CH9102', meaning: BRIDGE_MEANING, next: BRIDGE_NEXT, sources: [USB_IDS('1a86 55d4 "USB Single Serial" (CH9102)')] },
  { id: '10c4:ea60', kind: 'usb-uart', title: 'USB-UART bridge CP210x', meaning: BRIDGE_MEANING, next: BRIDGE_NEXT, sources: [USB_IDS('10c4 ea60 "CP210x UART Bridge"')] },
  { id: '0403:6001', kind: 'usb-uart', title: 'USB-UART bridge FTDI FT232', meaning: BRIDGE_MEANING, next: BRIDGE_NEXT, sources: [USB_IDS('0403 6001 "FT232 Serial (UART) IC"')] },
  { id: '067b:2303', kind: 'usb-uart', title: 'USB-UART bridge PL2303', meaning: BRIDGE_MEANING, next: BRIDGE_NEXT, sources: [USB_IDS('067b 2303 "PL2303 Serial Port"')] },
];

/** By interface or device class when the id is not in the table (USB class codes, usb.org). */
export const CLASS_DEVICES: Record<'card-reader' | 'serial-device' | 'other', Omit<KnownDevice, 'id' | 'kind'>> = {
  'card-reader': {
    title: 'Card reader or USB drive (mass storage)',
    meaning: 'A USB mass-storage device: a card reader (with or without a card in it) or a USB stick.',
    next: ['`fwcard drives` lists the cards fwcard can prepare.'],
    sources: ['USB class 08 (mass storage), usb.org class codes'],
  },
  'serial-device': {
    title: 'USB serial device (CDC ACM)',
    meaning: 'A USB serial device that is not Klipper or Katapult: a board running Marlin, RepRapFirmware or another firmware, or some other gadget.',
    next: ['If it is your board: it is not running Klipper. Build Klipper for it and flash it (`fwcard doctor --board <your-board>`).'],
    sources: ['USB class 02 (communications, CDC ACM), usb.org class codes'],
  },
  other: {
    title: 'Other USB device',
    meaning: 'Not a printer board fwcard knows by its id or class.',
    next: [],
    sources: [],
  },
};

export const UART: Omit<KnownDevice, 'id' | 'kind'> = {
  title: 'Serial port of this machine (UART)',
  meaning: "A serial port on this machine's own board (e.g. the GPIO UART of a Raspberry Pi or CB1). A printer board wired to it shows nothing on USB.",
  next: ['If the board is wired to it: `fwcard mcu-info <port>` asks whether Klipper answers (250000 baud).'],
  sources: [],
};

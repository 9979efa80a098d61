/**
 * Each USB device and serial port, classified by what it tells about a printer board: the
 * id table first (known-devices.ts), then the USB class; the details the descriptors carry
 * (Klipper's MCU in its product string, the chip id as serial, a DFU loader's flash layout).
 */
import { CLASS_DEVICES, KNOWN_DEVICES, UART, type DeviceKind, type KnownDevice } from './known-devices.js';
import type { SerialPort, SysfsView, UsbDevice } from './sysfs.js';

export interface ScannedDevice {
  kind: DeviceKind;
  title: string;
  /** The USB device, or null for a serial port not on USB. */
  usb: { path: string; id: string; manufacturer: string | null; product: string | null; serial: string | null } | null;
  /** Serial ports (device nodes) and their /dev/serial/by-id names. */
  ports: string[];
  byId: string[];
  /** The MCU the device names (Klipper and Katapult put CONFIG_MCU in their product string). */
  mcu: string | null;
  /** What a ROM loader tells about its chip: family and flash size. */
  chip: { family: string | null; flashBytes: number | null; layout: string | null } | null;
  meaning: string;
  next: string[];
  sources: string[];
}

// Root hubs (Linux Foundation 1d6b) and other hubs are the bus itself, not a device.
const isHub = (d: UsbDevice): boolean => d.vendorId === '1d6b' || d.classCode === '09';

/** Klipper MCU names as CONFIG_MCU spells them: stm32f446xx, lpc1769, rp2040, atmega2560, … */
const MCU_NAME = /^(stm32\w+|lpc17\d\d|rp2\d+|atmega\w+|at90\w+|sam\w+|same\w+|hc32\w+|gd32\w+)$/i;

/**
 * A DfuSe loader names its memory in the interface string: "@Internal Flash  /0x08000000/04*016Kg,
 * 01*064Kg,03*128Kg" (count * size, K or M, then access letters; ST UM0424 / AN3156).
 */
export function dfuFlashLayout(label: string | null): { base: number; bytes: number; sectorKib: number[] } | null {
  const m = label ? /@[^/]*flash[^/]*\/\s*0x([0-9a-f]+)\s*\/([^@]*)/i.exec(label) : null;
  if (!m) return null;
  let bytes = 0;
  const sectorKib: number[] = [];
  for (const part of m[2]!.split(',')) {
    const s = /^\s*(\d+)\s*\*\s*(\d+)\s*([KM ]?)/i.exec(part);
    if (!s) continue;
    const unit = s[3]!.toUpperCase() === 'M' ? 1024 : s[3]!.toUpperCase() === 'K' ? 1 : 1 / 1024;
    const kib = Number(s[2]) * unit;
    bytes += Number(s[1]) * kib * 1024;
    if (!sectorKib.includes(kib)) sectorKib.push(kib);
  }
  return bytes ? { base: parseInt(m[1]!, 16), bytes, sectorKib } : null;
}

/** The STM32 family a ROM DFU loader reveals: by its strings if they name one, else by its sector layout. */
function stmFamily(d: UsbDevice, layout: ReturnType<typeof dfuFlashLayout>): string | null {
  const named = /STM32[A-Z]\d[\dA-Z]*/i.exec(`${d.product ?? ''} ${d.serial ?? ''}`)?.[0];
  if (named && !/^STM32Fx$/i.test(named)) return named.toUpperCase();
  if (layout) {
    const s = layout.sectorKib.join(',');
    // Sector layouts of the reference manuals: 16/64/128 KiB sectors: F2/F4 (and F7 with 32/128/256);
    // 128 KiB uniform: H7; 2 KiB pages: F0/G0/G4/L4; 4 KiB: F3-class small parts.
    if (s === '16,64,128') return 'STM32F2/F4';
    if (s === '32,128,256') return 'STM32F7';
    if (s === '128') return 'STM32H7';
    if (s === '2') return 'STM32F0/G0/G4';
  }
  if (/STM32Fx/i.test(d.serial ?? '')) return 'STM32F';
  return null;
}

function describe(d: UsbDevice): { kind: DeviceKind; entry: Omit<KnownDevice, 'id' | 'kind'> } {
  const known = KNOWN_DEVICES.find((k) => k.id === `${d.vendorId}:${d.productId}`);
  // CanBoot, Katapult's earlier name, used Klipper's own 1d50:614e with the manufacturer "CanBoot".
  if (known?.kind === 'klipper' && /^(canboot|katapult)$/i.test(d.manufacturer ?? '')) {
    const k = KNOWN_DEVICES.find((x) => x.kind === 'katapult')!;
    return { kind: 'katapult', entry: { ...k, sources: [...k.sources, 'Katapult src/generic/usb_cdc.c of the CanBoot era (USB_STR_MANUFACTURER "CanBoot" on 1d50:614e)'] } };
  }
  if (known) return { kind: known.kind, entry: known };
  const classes = [d.classCode, ...d.interfaces.map((i) => i.classCode)];
  if (classes.includes('08')) return { kind: 'card-reader', entry: CLASS_DEVICES['card-reader'] };
  if (classes.includes('02')) return { kind: 'serial-device', entry: CLASS_DEVICES['serial-device'] };
  return { kind: 'other', entry: CLASS_DEVICES.other };
}

function scanUsb(d: UsbDevice, ports: SerialPort[]): ScannedDevice {
  const { kind, entry } = describe(d);
  const own = ports.filter((p) => p.usb === d.path);
  let chip: ScannedDevice['chip'] = null;
  if (kind === 'rom-dfu') {
    const label = d.interfaces.map((i) => i.label).find((l) => dfuFlashLayout(l)) ?? null;
    const layout = dfuFlashLayout(label);
    chip = { family: d.vendorId === '0483' ? stmFamily(d, layout) : d.vendorId === '28e9' ? 'GD32' : null, flashBytes: layout?.bytes ?? null, layout: label };
  }
  const mcu = (kind === 'klipper' || kind === 'katapult') && d.product && MCU_NAME.test(d.product) ? d.product.toLowerCase() : null;
  return {
    kind,
    title: entry.title,
    usb: { path: d.path, id: `${d.vendorId}:${d.productId}`, manufacturer: d.manufacturer, product: d.product, serial: d.serial },
    ports: own.map((p) => p.device),
    byId: own.flatMap((p) => p.byId),
    mcu,
    chip,
    meaning: entry.meaning,
    next: entry.next,
    sources: entry.sources,
  };
}

export interface Scan {
  /** False when this machine has no sysfs USB tree to read (not Linux): nothing could be seen. */
  available: boolean;
  devices: ScannedDevice[];
}

export function classify(view: SysfsView): Scan {
  const devices = view.devices.filter((d) => !isHub(d)).map((d) => scanUsb(d, view.ports));
  for (const p of view.ports.filter((x) => !x.usb)) {
    devices.push({ kind: 'uart', ...UART, usb: null, ports: [p.device], byId: p.byId, mcu: null, chip: null });
  }
  return { available: view.available, devices };
}

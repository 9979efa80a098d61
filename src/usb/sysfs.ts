/**
 * What Linux says is on USB and which serial ports exist, read from sysfs (no libusb, no root):
 *
 *   /sys/bus/usb/devices/<bus>-<port…>/        idVendor, idProduct, manufacturer, product, serial,
 *                                              bDeviceClass, speed
 *   /sys/bus/usb/devices/<dev>:<cfg>.<n>/      bInterfaceClass, interface (the DFU alt-setting
 *                                              string: "@Internal Flash  /0x08000000/04*016Kg,…")
 *   /sys/class/tty/<name>/device               → the USB interface (or platform device) of a port
 *   /dev/serial/by-id/<name>                   → ../../ttyACM0, the names udev gives
 *
 * The environment variable FWCARD_SYSFS_ROOT names a directory standing in for /sys, and
 * FWCARD_DEV_ROOT one standing in for /dev, so tests build device trees of plain files.
 * Moonraker's utils/sysfs_devs.py walks the same files the same way.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { attr, sysfsRoot, usbAncestor } from '../disk/drive-names.js';

export interface UsbInterface {
  /** sysfs name, e.g. "1-1.3:1.0". */
  name: string;
  /** bInterfaceClass, two hex digits ("02" CDC, "08" mass storage, "fe" application specific: DFU). */
  classCode: string;
  /** The interface string (DFU loaders describe their flash layout here). */
  label: string | null;
}

export interface UsbDevice {
  /** sysfs name, e.g. "1-1.3": bus 1, hub port 1, port 3. */
  path: string;
  vendorId: string;
  productId: string;
  manufacturer: string | null;
  product: string | null;
  serial: string | null;
  /** bDeviceClass, two hex digits ("09" hub). */
  classCode: string | null;
  /** Link speed in Mbit/s as sysfs gives it ("12" full speed, "480" high speed). */
  speed: string | null;
  interfaces: UsbInterface[];
}

export interface SerialPort {
  /** Device node: /dev/ttyACM0. */
  device: string;
  /** The USB device it belongs to (its path), or null for a UART on the board of this machine. */
  usb: string | null;
  /** /dev/serial/by-id/… names pointing at it. */
  byId: string[];
  /** Kernel driver ("cdc_acm", "ch341-uart", "cp210x", "ftdi_sio", "serial8250", …), when known. */
  driver: string | null;
}

export interface SysfsView {
  /** The directory read as /sys. */
  root: string;
  /** False when there is no USB tree to read (not Linux, or a container without /sys/bus/usb). */
  available: boolean;
  devices: UsbDevice[];
  ports: SerialPort[];
}

const devRoot = (): string => process.env.FWCARD_DEV_ROOT || '/dev';

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** USB device names are "<bus>-<port>[.<port>…]"; interfaces add ":<config>.<n>"; root hubs are "usb<bus>". */
const DEVICE_NAME = /^\d+-\d+(\.\d+)*$/;

export function readUsbDevices(root = sysfsRoot()): UsbDevice[] {
  const base = join(root, 'bus', 'usb', 'devices');
  const names = list(base);
  const out: UsbDevice[] = [];
  for (const name of names.filter((n) => DEVICE_NAME.test(n))) {
    const dir = join(base, name);
    const vendorId = attr(dir, 'idVendor');
    const productId = attr(dir, 'idProduct');
    if (!vendorId || !productId) continue;
    const interfaces = names
      .filter((n) => n.startsWith(`${name}:`))
      .map((n) => ({ name: n, classCode: (attr(join(base, n), 'bInterfaceClass') ?? '').toLowerCase(), label: attr(join(base, n), 'interface') }));
    out.push({
      path: name,
      vendorId: vendorId.toLowerCase(),
      productId: productId.toLowerCase(),
      manufacturer: attr(dir, 'manufacturer'),
      product: attr(dir, 'product'),
      serial: attr(dir, 'serial'),
      classCode: attr(dir, 'bDeviceClass')?.toLowerCase() ?? null,
      speed: attr(dir, 'speed'),
      interfaces,
    });
  }
  return out;
}

/** The by-id names udev made, by the tty they point at. */
function byIdNames(): Map<string, string[]> {
  const dir = join(devRoot(), 'serial', 'by-id');
  const out = new Map<string, string[]>();
  for (const n of list(dir)) {
    try {
      const tty = basename(readlinkSync(join(dir, n)));
      out.set(tty, [...(out.get(tty) ?? []), join('/dev/serial/by-id', n)]);
    } catch {
      // not a link: not udev's
    }
  }
  return out;
}

/** The USB device (sysfs name) a tty's device link leads into: the nearest parent with an idVendor. */
function usbOwner(deviceDir: string): string | null {
  const dir = usbAncestor(deviceDir);
  return dir ? basename(dir) : null;
}

export function readSerialPorts(root = sysfsRoot()): SerialPort[] {
  const ids = byIdNames();
  const out: SerialPort[] = [];
  for (const name of list(join(root, 'class', 'tty'))) {
    const tty = join(root, 'class', 'tty', name);
    const device = join(tty, 'device');
    // Virtual terminals and ptys have no device link.
    if (!isDir(device)) continue;
    let driver: string | null = null;
    try {
      driver = basename(readlinkSync(join(device, 'driver')));
    } catch {
      driver = null;
    }
    const usb = usbOwner(device);
    // The 8250 driver registers ttyS0…ttyS31 whether or not a UART is there: type 0 (PORT_UNKNOWN) is none.
    if (!usb && driver === 'serial8250' && attr(tty, 'type') === '0') continue;
    out.push({ device: `/dev/${name}`, usb, byId: ids.get(name) ?? [], driver });
  }
  return out;
}

export function readSysfs(): SysfsView {
  const root = sysfsRoot();
  const available = isDir(join(root, 'bus', 'usb', 'devices'));
  return { root, available, devices: readUsbDevices(root), ports: readSerialPorts(root) };
}

import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * A stand-in for /sys and /dev, laid out as Linux lays them out: USB devices and their
 * interfaces under sys/bus/usb/devices, ttys under sys/class/tty with a `device` link into the
 * USB interface (cdc_acm) or into a usb-serial port below it (ch341, cp210x, ftdi), and udev's
 * dev/serial/by-id links.
 */
export class SysfsTree {
  readonly sys: string;
  readonly dev: string;
  constructor(readonly root: string) {
    this.sys = join(root, 'sys');
    this.dev = join(root, 'dev');
    mkdirSync(join(this.sys, 'bus', 'usb', 'devices'), { recursive: true });
    mkdirSync(join(this.sys, 'class', 'tty'), { recursive: true });
  }

  get env(): Record<string, string> {
    return { FWCARD_SYSFS_ROOT: this.sys, FWCARD_DEV_ROOT: this.dev };
  }

  private files(dir: string, attrs: Record<string, string | undefined>): void {
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) writeFileSync(join(dir, k), `${v}\n`);
  }

  /**
   * A USB device with its interfaces (class codes, optional interface strings): directories under
   * sys/devices (an interface inside its device), linked from sys/bus/usb/devices by name.
   */
  usb(path: string, d: { vid: string; pid: string; manufacturer?: string; product?: string; serial?: string; deviceClass?: string; interfaces?: { cls: string; label?: string }[] }): this {
    const bus = join(this.sys, 'bus', 'usb', 'devices');
    const real = join(this.sys, 'devices', 'pci0000:00', `usb${path.split('-')[0]}`, path);
    this.files(real, { idVendor: d.vid, idProduct: d.pid, manufacturer: d.manufacturer, product: d.product, serial: d.serial, bDeviceClass: d.deviceClass ?? '00', speed: '12' });
    symlinkSync(relative(bus, real), join(bus, path));
    (d.interfaces ?? []).forEach((i, n) => {
      const name = `${path}:1.${n}`;
      this.files(join(real, name), { bInterfaceClass: i.cls, interface: i.label });
      symlinkSync(relative(bus, join(real, name)), join(bus, name));
    });
    return this;
  }

  /** A tty whose device is `under` (a path below sys/bus/usb/devices), with a driver and a by-id name. */
  tty(name: string, opts: { under?: string; driver: string; byId?: string; type?: string }): this {
    const tty = join(this.sys, 'class', 'tty', name);
    mkdirSync(tty, { recursive: true });
    // A USB tty's device is its interface, or a usb-serial port below it ("1-1.4:1.0/ttyUSB0").
    const [iface, ...below] = (opts.under ?? '').split('/');
    const target = opts.under ? join(realpathSync(join(this.sys, 'bus', 'usb', 'devices', iface!)), ...below) : join(this.sys, 'devices', 'platform', name);
    mkdirSync(target, { recursive: true });
    symlinkSync(relative(tty, target), join(tty, 'device'));
    const drv = join(this.sys, 'bus', 'drivers', opts.driver);
    mkdirSync(drv, { recursive: true });
    symlinkSync(relative(target, drv), join(target, 'driver'));
    if (opts.type !== undefined) writeFileSync(join(tty, 'type'), `${opts.type}\n`);
    if (opts.byId) {
      const byId = join(this.dev, 'serial', 'by-id');
      mkdirSync(byId, { recursive: true });
      symlinkSync(`../../${name}`, join(byId, opts.byId));
    }
    return this;
  }
}

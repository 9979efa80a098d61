/**
 * What to call a disk, and which loop devices are attached, from sysfs alone (no device is
 * opened). `FWCARD_SYSFS_ROOT` names a directory standing in for /sys, so that tests build
 * trees of plain files (the same variable usb/sysfs.ts reads).
 *
 *   /sys/class/block/<name>/device/{vendor,model}   SCSI (USB readers, SATA): INQUIRY strings
 *   /sys/class/block/<name>/device/vendor           virtio: the PCI vendor id ("0x1af4"), no model
 *   /sys/class/block/<name>/device/model            NVMe: the controller's model string
 *   /sys/class/block/<name>/device/{type,name}      SD/MMC: "SD" and the product name from the card's CID
 *   /sys/class/block/<name>/loop/backing_file       loop devices, present only while attached
 *   …/<usb device>/{manufacturer,product}           the USB strings of the reader a disk sits behind
 */
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const sysfsRoot = (): string => process.env.FWCARD_SYSFS_ROOT || '/sys';

/** A sysfs attribute's text (NULs and blanks trimmed), or null when absent or empty. Also used by usb/sysfs.ts. */
export function attr(dir: string, name: string): string | null {
  try {
    const v = readFileSync(join(dir, name), 'latin1').replace(/\0/g, '').trim();
    return v.length ? v : null;
  } catch {
    return null;
  }
}

/**
 * Vendor ids sysfs gives as bare numbers, by bus. virtio disks report their PCI vendor:
 * 0x1af4 is Red Hat's id for virtio (pci.ids; virtio spec 1.2 §4.1.2 "PCI Device Discovery":
 * any PCI device with Vendor ID 0x1AF4 is a virtio device). The others are hypervisors whose
 * emulated disks show up the same way (pci.ids).
 */
const PCI_VENDORS: Record<string, string> = {
  '0x1af4': 'virtio (Red Hat)',
  '0x15ad': 'VMware',
  '0x80ee': 'VirtualBox',
  '0x1414': 'Hyper-V (Microsoft)',
  '0x1d0f': 'Amazon EBS',
};

const isNumericId = (s: string): boolean => /^0x[0-9a-f]+$/i.test(s);

/**
 * The USB device a sysfs path lies under: the nearest parent named like a USB device ("1-2.3")
 * that has an idVendor (a card reader, a stick, a board's USB-serial interface). Also used by
 * usb/sysfs.ts for the serial ports.
 */
export function usbAncestor(dir: string): string | null {
  let p: string;
  try {
    p = realpathSync(dir);
  } catch {
    return null;
  }
  for (let i = 0; i < 12 && p !== dirname(p); i++, p = dirname(p)) {
    if (/^\d+-\d+(\.\d+)*$/.test(basename(p)) && attr(p, 'idVendor')) return p;
  }
  return null;
}

export interface DiskNames {
  /** How people recognise it: "Generic STORAGE DEVICE", "virtio (Red Hat) disk", "SD card SC32G". */
  description: string;
  /** "Realtek USB3.0-CRW" when the disk is behind a USB device that names itself; else null. */
  usb: string | null;
}

/** The names sysfs has for disk `name` (a kernel name: sdb, vda, mmcblk0, nvme0n1). */
export function diskNames(name: string, root = sysfsRoot()): DiskNames {
  const dev = join(root, 'class', 'block', name, 'device');
  const vendor = attr(dev, 'vendor');
  const model = attr(dev, 'model');
  const parts: string[] = [];
  if (vendor && isNumericId(vendor)) {
    const known = PCI_VENDORS[vendor.toLowerCase()];
    parts.push(known ? `${known} disk` : `disk of vendor ${vendor.toLowerCase()}`);
    if (model) parts.push(model);
  } else if (vendor || model) {
    parts.push(...[vendor, model].filter((s): s is string => !!s));
  } else {
    // An SD card on the host's own slot: its type and the product name from its CID.
    const sdName = attr(dev, 'name');
    const type = attr(dev, 'type');
    if (sdName || type) parts.push(...[`${type ?? 'MMC'} card`, sdName].filter((s): s is string => !!s));
  }
  const usbDir = usbAncestor(dev);
  const usb = usbDir ? [attr(usbDir, 'manufacturer'), attr(usbDir, 'product')].filter(Boolean).join(' ') || null : null;
  const description = parts.join(' ') || usb || '';
  return { description, usb: usb && usb !== description ? usb : null };
}

/** Whether disk `name` sits behind a USB device. */
export const isOnUsb = (name: string, root = sysfsRoot()): boolean => usbAncestor(join(root, 'class', 'block', name, 'device')) !== null;

export interface AttachedLoop {
  name: string;
  /** The file behind it, as the kernel reports it ("(deleted)" appended when it was removed). */
  backingFile: string;
  sizeBytes: number;
  readOnly: boolean;
}

/**
 * The loop devices that are attached: `loop/` exists only while a file is bound (loop_sysfs in
 * the kernel's drivers/block/loop.c), so the detached /dev/loopN that udev keeps are left out.
 */
export function attachedLoops(root = sysfsRoot()): AttachedLoop[] {
  let names: string[];
  try {
    names = readdirSync(join(root, 'class', 'block'));
  } catch {
    return [];
  }
  const out: AttachedLoop[] = [];
  for (const name of names.filter((n) => /^loop\d+$/.test(n)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))) {
    const dir = join(root, 'class', 'block', name);
    const backingFile = attr(join(dir, 'loop'), 'backing_file');
    if (!backingFile) continue;
    // sysfs counts 512-byte units whatever the sector size.
    out.push({ name, backingFile, sizeBytes: Number(attr(dir, 'size') ?? '0') * 512, readOnly: attr(dir, 'ro') === '1' });
  }
  return out;
}

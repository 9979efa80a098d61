import { readdirSync, readlinkSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { blockInfo } from './linux-block.js';
import { attachedLoops, diskNames, isOnUsb, sysfsRoot } from './drive-names.js';
import { assessDisk, systemDisks } from './safety.js';

/**
 * Finding the drives a user can pick. `drivelist` (etcher's scanner) is loaded lazily: it is an
 * optional dependency, so fwcard still runs (flash-sdcard on a Raspberry Pi, image files) where
 * it is missing; on Linux a sysfs scanner stands in for it.
 */
export interface Drive {
  device: string;
  description: string;
  sizeBytes: number | null;
  bus: string;
  removable: boolean;
  isCard: boolean;
  isUsb: boolean;
  isSystem: boolean;
  isVirtual: boolean;
  readOnly: boolean;
  mountpoints: string[];
  /** Stable names from /dev/disk/by-id. */
  byId: string[];
  /** A loop device: the file it is attached to (null for every other drive). */
  loopBackingFile: string | null;
  /** Why this drive is not offered by default ("" when it is). */
  hiddenBecause: string;
  source: 'drivelist' | 'sysfs';
}

function byIdNames(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const dir = '/dev/disk/by-id';
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    try {
      const target = '/dev/' + basename(readlinkSync(join(dir, n)));
      out.set(target, [...(out.get(target) ?? []), n]);
    } catch {
      /* dangling link */
    }
  }
  return out;
}

function whyHidden(d: Omit<Drive, 'hiddenBecause'>): string {
  if (d.isSystem) return 'system disk';
  // A loop device is an image file the user attached: fwcard prepares it when named, never offers it.
  if (d.loopBackingFile) return d.readOnly ? 'loop device, read-only' : 'loop device';
  if (d.isVirtual) return 'virtual device';
  if (d.readOnly) return 'read-only';
  if (!d.removable && !d.isCard && !d.isUsb) return 'not removable';
  return '';
}

async function fromDrivelist(): Promise<Drive[] | null> {
  let mod: { list: () => Promise<any[]> };
  try {
    mod = (await import('drivelist')) as unknown as { list: () => Promise<any[]> };
  } catch {
    return null;
  }
  let raw: any[];
  try {
    raw = await mod.list();
  } catch {
    return null;
  }
  const ids = byIdNames();
  const sys = process.platform === 'linux' ? systemDisks() : new Map<string, string>();
  return raw.map((r) => {
    const device = String(r.device);
    const d = {
      device,
      // lsblk (drivelist's source on Linux) gives raw ids ("0x1af4" for a virtio disk): sysfs names them.
      description: process.platform === 'linux' ? describe(basename(device), String(r.description ?? '')) : String(r.description ?? ''),
      sizeBytes: typeof r.size === 'number' ? r.size : null,
      bus: String(r.busType ?? 'UNKNOWN'),
      removable: !!r.isRemovable,
      isCard: !!r.isCard,
      isUsb: !!r.isUSB,
      // Our own system-disk rule also applies: drivelist can miss LVM/dm stacks.
      isSystem: !!r.isSystem || sys.has(basename(device)),
      isVirtual: !!r.isVirtual,
      readOnly: !!r.isReadOnly,
      mountpoints: (r.mountpoints ?? []).map((m: { path: string }) => m.path),
      byId: ids.get(device) ?? [],
      loopBackingFile: null,
      source: 'drivelist' as const,
    };
    return { ...d, hiddenBecause: whyHidden(d) };
  });
}

/** The description of disk `name`: sysfs's names, with the USB reader's own when it has them. */
function describe(name: string, fallback: string): string {
  const n = diskNames(name);
  const main = n.description || fallback || name;
  return n.usb ? `${main} (USB: ${n.usb})` : main;
}

/** One disk as sysfs describes it; null when it is not a disk that can hold a card's contents. */
function sysfsDrive(name: string, ids: Map<string, string[]>, loop?: { backingFile: string }): Drive | null {
  const dev = `/dev/${name}`;
  if (!existsSync(dev)) return null;
  let info;
  try {
    info = blockInfo(dev);
  } catch {
    return null;
  }
  if (!info || info.sizeBytes === 0) return null;
  const report = assessDisk(info);
  const backing = loop?.backingFile ?? info.loopBackingFile;
  const d = {
    device: dev,
    description: backing ? `image ${backing}` : describe(name, [info.vendor, info.model].filter(Boolean).join(' ')),
    sizeBytes: info.sizeBytes,
    bus: name.startsWith('mmcblk') ? 'SD' : name.startsWith('loop') ? 'loop' : 'UNKNOWN',
    removable: info.removable,
    isCard: name.startsWith('mmcblk'),
    isUsb: isOnUsb(name),
    isSystem: report.systemReasons.length > 0,
    isVirtual: /^(loop|zram|ram|dm-|md)/.test(name),
    readOnly: info.readOnly,
    mountpoints: report.mounted.map((m) => m.mountPoint),
    byId: ids.get(dev) ?? [],
    loopBackingFile: name.startsWith('loop') ? backing : null,
    source: 'sysfs' as const,
  };
  return { ...d, hiddenBecause: whyHidden(d) };
}

function fromSysfs(): Drive[] {
  if (process.platform !== 'linux' || !existsSync('/sys/class/block')) return [];
  const ids = byIdNames();
  const out: Drive[] = [];
  for (const name of readdirSync('/sys/class/block')) {
    if (existsSync(`/sys/class/block/${name}/partition`)) continue;
    const d = sysfsDrive(name, ids);
    if (d) out.push(d);
  }
  return out;
}

/**
 * The attached loop devices the listing lacks (drivelist leaves every loop device out), after
 * it: the README offers /dev/loopN as a target, so `--all` shows which exist and their files.
 */
function withLoops(drives: Drive[]): Drive[] {
  if (process.platform !== 'linux') return drives;
  const listed = new Set(drives.map((d) => d.device));
  const ids = byIdNames();
  const loops = attachedLoops(sysfsRoot())
    .filter((l) => !listed.has(`/dev/${l.name}`))
    .map((l) => sysfsDrive(l.name, ids, l))
    .filter((d): d is Drive => d !== null);
  return [...drives, ...loops];
}

export async function listDrives(opts: { all?: boolean } = {}): Promise<Drive[]> {
  const drives = withLoops((await fromDrivelist()) ?? fromSysfs());
  return opts.all ? drives : drives.filter((d) => d.hiddenBecause === '');
}

import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Facts about Linux block devices from sysfs and /proc, read without opening the device.
 * (`stat` says 0 bytes for a block device: the true capacity is in /sys/class/block/X/size.)
 */
export interface LinuxBlockInfo {
  /** Kernel name: sdb, mmcblk0, loop3, sdb1 … */
  kernelName: string;
  /** "MAJ:MIN" */
  devNumber: string;
  isPartition: boolean;
  /** The whole disk this is (itself when not a partition). */
  diskName: string;
  sizeBytes: number;
  logicalSectorSize: number;
  readOnly: boolean;
  removable: boolean;
  /** Partitions of the disk, by kernel name. */
  partitions: string[];
  model: string | null;
  vendor: string | null;
  /** For loop devices: the file behind them. */
  loopBackingFile: string | null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

export function devNumberOf(path: string): string | null {
  const st = statSync(path);
  if (!st.isBlockDevice()) return null;
  const rdev = st.rdev;
  // glibc's encoding of dev_t: major in bits 8-19 (and 32+), minor in bits 0-7 and 20-31.
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00));
  return `${major}:${minor}`;
}

export function sysfsDir(devNumber: string): string | null {
  const link = `/sys/dev/block/${devNumber}`;
  return existsSync(link) ? realpathSync(link) : null;
}

export function blockInfo(devPath: string): LinuxBlockInfo | null {
  const devNumber = devNumberOf(devPath);
  if (!devNumber) return null;
  const dir = sysfsDir(devNumber);
  if (!dir) return null;
  const kernelName = basename(dir);
  const isPartition = existsSync(join(dir, 'partition'));
  const diskDir = isPartition ? dirname(dir) : dir;
  const diskName = basename(diskDir);
  const sectors = Number(readText(join(dir, 'size')) ?? '0');
  const logical = Number(readText(join(diskDir, 'queue', 'logical_block_size')) ?? '512');
  const partitions = readdirSync(diskDir).filter((n) => n.startsWith(diskName) && existsSync(join(diskDir, n, 'partition')));
  return {
    kernelName,
    devNumber,
    isPartition,
    diskName,
    // sysfs always counts 512-byte units, whatever the logical sector size.
    sizeBytes: sectors * 512,
    logicalSectorSize: logical,
    readOnly: readText(join(dir, 'ro')) === '1',
    removable: readText(join(diskDir, 'removable')) === '1',
    partitions,
    model: readText(join(diskDir, 'device', 'model')),
    vendor: readText(join(diskDir, 'device', 'vendor')),
    loopBackingFile: readText(join(diskDir, 'loop', 'backing_file')),
  };
}

export interface MountEntry {
  devNumber: string;
  mountPoint: string;
  source: string;
  fsType: string;
}

/** Mounted file systems, from /proc/self/mountinfo (major:minor is the third field). */
export function mounts(mountinfo = readText('/proc/self/mountinfo') ?? ''): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    const f = left!.split(' ');
    const r = (right ?? '').split(' ');
    out.push({ devNumber: f[2]!, mountPoint: unescapeMount(f[4]!), fsType: r[0] ?? '', source: r[1] ?? '' });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Active swap devices by path, from /proc/swaps. */
export function swapDevices(text = readText('/proc/swaps') ?? ''): string[] {
  return text.split('\n').slice(1).map((l) => l.split(/\s+/)[0]!).filter((p) => p && p.startsWith('/dev/'));
}

/**
 * Every block device number that makes up `diskName`: the disk, its partitions, and anything
 * stacked on them (device-mapper, md, LVM) found through the `holders` links.
 */
export function devNumbersOfDisk(diskName: string): Set<string> {
  const result = new Set<string>();
  const visit = (name: string, depth: number) => {
    if (depth > 8) return;
    const dir = `/sys/class/block/${name}`;
    const dev = readText(join(dir, 'dev'));
    if (dev) result.add(dev);
    try {
      for (const h of readdirSync(join(dir, 'holders'))) visit(h, depth + 1);
    } catch {
      /* no holders */
    }
  };
  visit(diskName, 0);
  const diskDir = `/sys/class/block/${diskName}`;
  try {
    for (const n of readdirSync(realpathSync(diskDir))) {
      if (n.startsWith(diskName) && existsSync(join(diskDir, n, 'partition'))) visit(n, 1);
    }
  } catch {
    /* not a disk */
  }
  return result;
}

/** The disks (kernel names) under a device number, walking device-mapper `slaves` down. */
export function disksUnder(devNumber: string): string[] {
  const dir = sysfsDir(devNumber);
  if (!dir) return [];
  const out = new Set<string>();
  const visit = (d: string, depth: number) => {
    if (depth > 8) return;
    const slavesDir = join(d, 'slaves');
    let slaves: string[] = [];
    try {
      slaves = readdirSync(slavesDir);
    } catch {
      /* none */
    }
    if (slaves.length) {
      for (const s of slaves) visit(realpathSync(join(slavesDir, s)), depth + 1);
      return;
    }
    out.add(existsSync(join(d, 'partition')) ? basename(dirname(d)) : basename(d));
  };
  visit(dir, 0);
  return [...out];
}

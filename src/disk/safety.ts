import { spawnSync } from 'node:child_process';
import { IoError, SafetyError } from '../errors.js';
import { devNumbersOfDisk, disksUnder, mounts, swapDevices, devNumberOf, type LinuxBlockInfo, type MountEntry } from './linux-block.js';

/**
 * The rules that keep fwcard from destroying the wrong disk. Every rule is checked before a
 * device is opened for writing; the system-disk rule has no override.
 */

// Mount points whose disk runs this machine: writing there would break the host.
export const SYSTEM_MOUNT_POINTS = ['/', '/boot', '/boot/efi', '/boot/firmware', '/efi', '/usr', '/var', '/home', '/etc', '/opt', '/srv', '/nix', '/snap'];

export interface SafetyReport {
  /** Why this disk holds the running system (empty when it does not). */
  systemReasons: string[];
  /** File systems of this disk that are mounted now. */
  mounted: MountEntry[];
}

/** Disks (kernel names) that hold a system mount or active swap. */
export function systemDisks(mountList: MountEntry[] = mounts(), swaps: string[] = swapDevices()): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of mountList) {
    if (!SYSTEM_MOUNT_POINTS.includes(m.mountPoint)) continue;
    for (const d of disksUnder(m.devNumber)) if (!out.has(d)) out.set(d, `holds ${m.mountPoint} (${m.source})`);
  }
  for (const s of swaps) {
    let dev: string | null = null;
    try {
      dev = devNumberOf(s);
    } catch {
      dev = null;
    }
    if (dev) for (const d of disksUnder(dev)) if (!out.has(d)) out.set(d, `holds active swap ${s}`);
  }
  return out;
}

export function assessDisk(info: LinuxBlockInfo, mountList: MountEntry[] = mounts()): SafetyReport {
  const sys = systemDisks(mountList);
  const reason = sys.get(info.diskName);
  const numbers = devNumbersOfDisk(info.diskName);
  return {
    systemReasons: reason ? [reason] : [],
    mounted: mountList.filter((m) => numbers.has(m.devNumber)),
  };
}

/**
 * Throw a SafetyError unless `info` is a disk fwcard may overwrite. With `allowMounted`, mounted
 * file systems pass this check: the caller unmounts them after the user confirmed (see
 * unmountAll) and the O_EXCL open refuses anything still holding the disk.
 */
export function assertWritableDisk(path: string, info: LinuxBlockInfo, report: SafetyReport = assessDisk(info), opts: { allowMounted?: boolean } = {}): void {
  // Rule 1 (never overridable): the disk that runs this machine.
  if (report.systemReasons.length) {
    throw new SafetyError('system-disk', `${path} is a system disk of this machine (${report.systemReasons.join('; ')}); fwcard will not write to it`, {
      hint: 'Pick the SD card instead: `fwcard drives` lists removable drives. There is no flag to override this.',
      details: { path, reasons: report.systemReasons },
    });
  }
  // Rule 2: a partition is not a card; the layout covers the whole card.
  if (info.isPartition) {
    throw new SafetyError('is-partition', `${path} is a partition of /dev/${info.diskName}, not a whole card`, {
      hint: `Pass the whole card, e.g. /dev/${info.diskName}: prepare writes a new partition table.`,
      details: { path, disk: `/dev/${info.diskName}` },
    });
  }
  // Rule 3: mounted file systems would be corrupted under the OS's feet.
  if (report.mounted.length && !opts.allowMounted) {
    const where = report.mounted.map((m) => `${m.source} on ${m.mountPoint}`).join(', ');
    throw new SafetyError('mounted', `${path} has mounted file systems: ${where}`, {
      hint: `Unmount them first: ${[...new Set(report.mounted.map((m) => `sudo umount ${m.mountPoint}`))].join(' && ')}`,
      details: { path, mounts: report.mounted.map((m) => ({ source: m.source, mountPoint: m.mountPoint })) },
    });
  }
  // Rule 4: the kernel says read-only (lock switch on the card or adapter).
  if (info.readOnly) {
    throw new IoError('read-only', `${path} is read-only`, {
      hint: 'Slide the lock switch on the SD card or adapter to "unlocked", re-insert it, and try again.',
      details: { path },
    });
  }
}

/**
 * Unmount the card's file systems (the desktop auto-mounted them) before writing. A busy one is
 * reported with the way to find who holds it; nothing is written then.
 */
export function unmountAll(path: string, mounted: MountEntry[]): void {
  // Deepest first, so nested mounts come off before their parents.
  const points = [...new Set(mounted.map((m) => m.mountPoint))].sort((a, b) => b.length - a.length);
  for (const mp of points) {
    const r = spawnSync('umount', [mp], { encoding: 'utf8' });
    if (r.status !== 0) {
      const why = (r.stderr || r.error?.message || '').trim();
      throw new SafetyError('unmount-failed', `could not unmount ${mp} (a file system of ${path}): ${why || `umount exited ${r.status}`}; nothing was written`, {
        hint: /busy/i.test(why)
          ? `A program is using it: close file managers and terminals there (\`sudo fuser -vm ${mp}\` shows who), then try again.`
          : `Unmount it yourself (\`sudo umount ${mp}\`) and try again.`,
        details: { path, mountPoint: mp },
      });
    }
  }
}

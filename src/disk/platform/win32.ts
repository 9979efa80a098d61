/**
 * Windows device paths. A card is \\.\PhysicalDriveN; since Vista, writes to sectors of a
 * mounted volume are refused (ERROR_ACCESS_DENIED) unless that volume is locked
 * (FSCTL_LOCK_VOLUME) and dismounted (FSCTL_DISMOUNT_VOLUME) first, with its handle kept open
 * until the writing is done. Physical-drive I/O opened with FILE_FLAG_NO_BUFFERING must be
 * whole, aligned sectors. After writing, IOCTL_DISK_UPDATE_PROPERTIES makes Windows read the
 * new partition table.
 */
import { UsageError } from '../../errors.js';
import type { DevicePlan, PlatformStep } from './plan.js';

/** CTL_CODE(DeviceType, Function, Method, Access) from winioctl.h. */
export function ctlCode(deviceType: number, fn: number, method: number, access: number): number {
  return ((deviceType << 16) | (access << 14) | (fn << 2) | method) >>> 0;
}

const FILE_DEVICE_DISK = 0x07;
const FILE_DEVICE_FILE_SYSTEM = 0x09;
const IOCTL_VOLUME_BASE = 0x56; // 'V'
const METHOD_BUFFERED = 0;
const FILE_ANY_ACCESS = 0;

export const IOCTL = {
  FSCTL_LOCK_VOLUME: ctlCode(FILE_DEVICE_FILE_SYSTEM, 6, METHOD_BUFFERED, FILE_ANY_ACCESS),
  FSCTL_UNLOCK_VOLUME: ctlCode(FILE_DEVICE_FILE_SYSTEM, 7, METHOD_BUFFERED, FILE_ANY_ACCESS),
  FSCTL_DISMOUNT_VOLUME: ctlCode(FILE_DEVICE_FILE_SYSTEM, 8, METHOD_BUFFERED, FILE_ANY_ACCESS),
  IOCTL_DISK_UPDATE_PROPERTIES: ctlCode(FILE_DEVICE_DISK, 0x50, METHOD_BUFFERED, FILE_ANY_ACCESS),
  IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS: ctlCode(IOCTL_VOLUME_BASE, 0, METHOD_BUFFERED, FILE_ANY_ACCESS),
} as const;

/** \\.\PhysicalDrive2, \\.\PHYSICALDRIVE2 (drivelist's spelling), //./PhysicalDrive2 or PhysicalDrive2 → 2. */
export function parsePhysicalDrive(path: string): number {
  const m = /^(?:[\\/]{2}[.?][\\/])?physicaldrive(\d+)$/i.exec(path.trim());
  if (!m) {
    throw new UsageError('not-a-windows-disk', `${path} is not a Windows physical drive`, {
      hint: 'Give the card as \\\\.\\PhysicalDriveN (`fwcard drives` lists them; Disk Management shows N as "Disk N").',
      details: { path },
    });
  }
  return Number(m[1]);
}

export const physicalDrivePath = (n: number): string => `\\\\.\\PhysicalDrive${n}`;

/** A volume as the volume enumeration reports it, with the disks its extents lie on. */
export interface WindowsVolume {
  /** \\?\Volume{GUID}\ */
  volume: string;
  /** Mount points: drive letters ("E:\") and folders ("C:\cards\sd\"). */
  mountpoints: string[];
  /** Disk numbers of its extents (IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS). */
  disks: number[];
}

/** The volumes with an extent on disk `n`: every one of them must be locked before writing. */
export function volumesOnDisk(volumes: WindowsVolume[], n: number): WindowsVolume[] {
  return volumes.filter((v) => v.disks.includes(n));
}

/**
 * The path CreateFile opens a volume by: "E:\" or "E:" → \\.\E:; \\?\Volume{GUID}\ → without
 * its trailing backslash (with it, CreateFile opens the root directory, not the volume).
 * A folder mount point has no such path: null (resolve it to its volume first).
 */
export function volumeOpenPath(mountpointOrVolume: string): string | null {
  const letter = /^([A-Za-z]):\\?$/.exec(mountpointOrVolume);
  if (letter) return `\\\\.\\${letter[1]!.toUpperCase()}:`;
  const guid = /^\\\\\?\\(Volume\{[0-9A-Fa-f-]+\})\\?$/.exec(mountpointOrVolume);
  if (guid) return `\\\\?\\${guid[1]}`;
  return null;
}

/**
 * The plan to open disk `path` on Windows. For writing, `volumes` are what is mounted from it:
 * either the volume enumeration (WindowsVolume, preferred: it also finds volumes without a
 * drive letter) or the mount points drivelist reports for the drive ("E:\").
 */
export function win32Plan(path: string, opts: { write: boolean; volumes?: (WindowsVolume | string)[] }): DevicePlan {
  const n = parsePhysicalDrive(path);
  const disk = physicalDrivePath(n);
  const diskOpen = (access: 'read' | 'read-write'): PlatformStep => ({
    kind: 'open',
    handle: 'disk',
    path: disk,
    access,
    flags: access === 'read' ? ['FILE_SHARE_READ', 'FILE_SHARE_WRITE'] : ['FILE_SHARE_READ', 'FILE_SHARE_WRITE', 'FILE_FLAG_NO_BUFFERING', 'FILE_FLAG_WRITE_THROUGH'],
    why: access === 'read' ? 'read the card while Windows keeps it mounted' : 'unbuffered, write-through: each write reaches the card before the read-back',
  });
  if (!opts.write) return { platform: 'win32', disk, ioPath: disk, ioHandle: 'disk', alignedIo: true, before: [diskOpen('read')], after: [{ kind: 'close', handle: 'disk', why: 'done reading' }] };

  const before: PlatformStep[] = [];
  const after: PlatformStep[] = [];
  const seen = new Set<string>();
  let i = 0;
  for (const v of opts.volumes ?? []) {
    const volume = typeof v === 'string' ? null : v;
    if (volume && !volume.disks.includes(n)) continue;
    const name = volume ? volume.volume : v as string;
    const open = volumeOpenPath(name);
    const key = (open ?? name).toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const handle = `volume${i++}`;
    if (open) {
      before.push({ kind: 'open', handle, path: open, access: 'read-write', flags: ['FILE_SHARE_READ', 'FILE_SHARE_WRITE'], why: `${volume?.mountpoints[0] ?? name} is mounted from the card` });
    } else {
      before.push({ kind: 'resolve-volume', handle, mountpoint: name, api: 'GetVolumeNameForVolumeMountPointW', why: `${name} is a folder mount of a volume on the card` });
    }
    before.push(
      { kind: 'ioctl', handle, name: 'FSCTL_LOCK_VOLUME', code: IOCTL.FSCTL_LOCK_VOLUME, why: 'nobody else may use the volume while the card is rewritten (fails while a program has files open on it)' },
      { kind: 'ioctl', handle, name: 'FSCTL_DISMOUNT_VOLUME', code: IOCTL.FSCTL_DISMOUNT_VOLUME, why: 'Windows refuses writes to a mounted volume\'s sectors through the physical drive' },
    );
    // Closing the handle releases the lock; Windows mounts the new file system on next access.
    after.push({ kind: 'close', handle, why: 'releases the lock' });
  }
  before.push(diskOpen('read-write'));
  after.unshift(
    { kind: 'ioctl', handle: 'disk', name: 'IOCTL_DISK_UPDATE_PROPERTIES', code: IOCTL.IOCTL_DISK_UPDATE_PROPERTIES, why: 'make Windows read the new partition table' },
    { kind: 'close', handle: 'disk', why: 'done writing' },
  );
  return { platform: 'win32', disk, ioPath: disk, ioHandle: 'disk', alignedIo: true, before, after };
}

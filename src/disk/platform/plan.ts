/**
 * What opening a card for raw I/O takes on a platform, as data: the commands to run, the
 * handles to open, the ioctls to issue, before the I/O and after it. The platform modules build
 * these plans with pure functions (so they are tested on any host); an executor walks them.
 */
export type PlatformStep =
  /** Run a program (e.g. diskutil) and fail on a non-zero exit. */
  | { kind: 'run'; argv: string[]; why: string }
  /** Open a device; `handle` names it for later steps. */
  | { kind: 'open'; handle: string; path: string; access: 'read' | 'read-write'; flags: string[]; why: string }
  /** Find the volume behind a folder mount point (Windows: GetVolumeNameForVolumeMountPointW), then open it as `handle`. */
  | { kind: 'resolve-volume'; handle: string; mountpoint: string; api: string; why: string }
  /** DeviceIoControl / ioctl on an open handle. */
  | { kind: 'ioctl'; handle: string; name: string; code: number; why: string }
  | { kind: 'close'; handle: string; why: string };

export interface DevicePlan {
  platform: 'darwin' | 'win32';
  /** The whole card, as the user and the OS tools name it (/dev/disk4, \\.\PhysicalDrive2). */
  disk: string;
  /** The path the block I/O goes through (/dev/rdisk4, \\.\PhysicalDrive2). */
  ioPath: string;
  /** The handle of `ioPath` among the steps. */
  ioHandle: string;
  /** I/O must be whole, aligned sectors (raw devices refuse anything else). */
  alignedIo: true;
  before: PlatformStep[];
  after: PlatformStep[];
}

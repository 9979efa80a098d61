import { describe, expect, it } from 'vitest';
import { darwinPlan, darwinRawPath, darwinUnmountError, darwinWholeDisk, parseDarwinDisk } from '../../src/disk/platform/darwin.js';
import { IOCTL, ctlCode, parsePhysicalDrive, physicalDrivePath, volumeOpenPath, volumesOnDisk, win32Plan, type WindowsVolume } from '../../src/disk/platform/win32.js';
import type { PlatformStep } from '../../src/disk/platform/plan.js';

// These paths cannot run on this Linux host: the mapping from what the user types (or drivelist
// reports) to the commands, handles and ioctls is tested as data.

const summary = (steps: PlatformStep[]) =>
  steps.map((s) => (s.kind === 'run' ? `run ${s.argv.join(' ')}` : s.kind === 'open' ? `open ${s.handle} ${s.path} ${s.access}` : s.kind === 'ioctl' ? `ioctl ${s.handle} ${s.name}` : s.kind === 'resolve-volume' ? `resolve ${s.handle} ${s.mountpoint}` : `close ${s.handle}`));

describe('macOS device paths', () => {
  it('parses the spellings users and diskutil use', () => {
    expect(parseDarwinDisk('/dev/disk4')).toEqual({ number: 4, slice: null, raw: false });
    expect(parseDarwinDisk('/dev/rdisk12')).toEqual({ number: 12, slice: null, raw: true });
    expect(parseDarwinDisk('disk4s1')).toEqual({ number: 4, slice: 1, raw: false });
    for (const bad of ['/dev/sdb', '/dev/disk', 'disk4s', '/dev/disk4 s1', '\\\\.\\PhysicalDrive2', '/dev/diskX']) {
      expect(() => parseDarwinDisk(bad), bad).toThrow(expect.objectContaining({ code: 'not-a-mac-disk' }));
    }
  });

  it('maps to the raw node for speed, and to the whole disk for diskutil', () => {
    expect(darwinRawPath('/dev/disk4')).toBe('/dev/rdisk4');
    expect(darwinRawPath('/dev/rdisk4')).toBe('/dev/rdisk4');
    expect(darwinRawPath('/dev/disk4s2')).toBe('/dev/rdisk4s2');
    expect(darwinWholeDisk('/dev/rdisk4s2')).toBe('/dev/disk4');
  });

  it('writing: diskutil unmountDisk on the whole disk, then the raw node read-write; eject afterwards', () => {
    const p = darwinPlan('/dev/disk4', { write: true });
    expect(p).toMatchObject({ platform: 'darwin', disk: '/dev/disk4', ioPath: '/dev/rdisk4', ioHandle: 'disk', alignedIo: true });
    expect(summary(p.before)).toEqual(['run diskutil unmountDisk /dev/disk4', 'open disk /dev/rdisk4 read-write']);
    expect(summary(p.after)).toEqual(['close disk', 'run diskutil eject /dev/disk4']);
    // Given as the raw node, diskutil still gets the disk name.
    expect(summary(darwinPlan('/dev/rdisk7', { write: true }).before)[0]).toBe('run diskutil unmountDisk /dev/disk7');
  });

  it('reading needs no unmount; writing a partition is refused with the whole disk in the hint', () => {
    const r = darwinPlan('/dev/disk4s1', { write: false });
    expect(summary(r.before)).toEqual(['open disk /dev/rdisk4s1 read']);
    expect(() => darwinPlan('/dev/disk4s1', { write: true })).toThrow(expect.objectContaining({ code: 'target-is-partition', hint: 'Give the whole card: /dev/disk4.' }));
  });

  it('a busy card names the process diskutil reports', () => {
    const e = darwinUnmountError('/dev/disk4', 'Unmount of disk4 failed: at least one volume could not be unmounted\nUnmount was dissented by PID 412 (/System/Library/CoreServices/Finder.app)\n');
    expect(e.code).toBe('device-busy');
    expect(e.message).toBe('macOS could not unmount /dev/disk4 (held by /System/Library/CoreServices/Finder.app 412)');
    expect(e.hint).toContain('diskutil unmountDisk force /dev/disk4');
    expect(e.details.pid).toBe(412);
    expect(darwinUnmountError('/dev/disk4', 'Unmount of disk4 failed').details.pid).toBeNull();
  });
});

describe('Windows device paths', () => {
  it('computes the ioctl codes as winioctl.h does', () => {
    // Values as published in winioctl.h.
    expect(IOCTL.FSCTL_LOCK_VOLUME).toBe(0x00090018);
    expect(IOCTL.FSCTL_UNLOCK_VOLUME).toBe(0x0009001c);
    expect(IOCTL.FSCTL_DISMOUNT_VOLUME).toBe(0x00090020);
    expect(IOCTL.IOCTL_DISK_UPDATE_PROPERTIES).toBe(0x00070140);
    expect(IOCTL.IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS).toBe(0x00560000);
    expect(ctlCode(0x2d, 0x0200, 0, 1)).toBe(0x002d4800); // IOCTL_STORAGE_CHECK_VERIFY (FILE_READ_ACCESS)
  });

  it('parses physical drive names in the spellings Windows tools and drivelist use', () => {
    expect(parsePhysicalDrive('\\\\.\\PhysicalDrive2')).toBe(2);
    expect(parsePhysicalDrive('\\\\.\\PHYSICALDRIVE11')).toBe(11);
    expect(parsePhysicalDrive('//./PhysicalDrive3')).toBe(3);
    expect(parsePhysicalDrive('PhysicalDrive0')).toBe(0);
    expect(physicalDrivePath(2)).toBe('\\\\.\\PhysicalDrive2');
    for (const bad of ['E:', '\\\\.\\E:', '/dev/sdb', '\\\\.\\PhysicalDrive', 'PhysicalDrive2a']) {
      expect(() => parsePhysicalDrive(bad), bad).toThrow(expect.objectContaining({ code: 'not-a-windows-disk' }));
    }
  });

  it('opens volumes by the path CreateFile needs', () => {
    expect(volumeOpenPath('E:\\')).toBe('\\\\.\\E:');
    expect(volumeOpenPath('f:')).toBe('\\\\.\\F:');
    expect(volumeOpenPath('\\\\?\\Volume{3f2a6c1e-0000-0000-0000-100000000000}\\')).toBe('\\\\?\\Volume{3f2a6c1e-0000-0000-0000-100000000000}');
    expect(volumeOpenPath('C:\\cards\\sd\\')).toBeNull();
  });

  const VOLUMES: WindowsVolume[] = [
    { volume: '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}\\', mountpoints: ['C:\\'], disks: [0] },
    { volume: '\\\\?\\Volume{bbbbbbbb-0000-0000-0000-000000000002}\\', mountpoints: ['E:\\'], disks: [2] },
    { volume: '\\\\?\\Volume{cccccccc-0000-0000-0000-000000000003}\\', mountpoints: [], disks: [2] },
    { volume: '\\\\?\\Volume{dddddddd-0000-0000-0000-000000000004}\\', mountpoints: ['S:\\'], disks: [1, 2] },
  ];

  it('finds every volume with an extent on the card, also those without a letter or spanning disks', () => {
    expect(volumesOnDisk(VOLUMES, 2).map((v) => v.mountpoints[0] ?? v.volume)).toEqual(['E:\\', VOLUMES[2]!.volume, 'S:\\']);
    expect(volumesOnDisk(VOLUMES, 3)).toEqual([]);
  });

  it('writing: lock and dismount each volume on the disk, keep them open, then the drive unbuffered; afterwards re-read the table', () => {
    const p = win32Plan('\\\\.\\PhysicalDrive2', { write: true, volumes: VOLUMES });
    expect(p).toMatchObject({ platform: 'win32', disk: '\\\\.\\PhysicalDrive2', ioPath: '\\\\.\\PhysicalDrive2', ioHandle: 'disk' });
    expect(summary(p.before)).toEqual([
      'open volume0 \\\\?\\Volume{bbbbbbbb-0000-0000-0000-000000000002} read-write',
      'ioctl volume0 FSCTL_LOCK_VOLUME',
      'ioctl volume0 FSCTL_DISMOUNT_VOLUME',
      'open volume1 \\\\?\\Volume{cccccccc-0000-0000-0000-000000000003} read-write',
      'ioctl volume1 FSCTL_LOCK_VOLUME',
      'ioctl volume1 FSCTL_DISMOUNT_VOLUME',
      'open volume2 \\\\?\\Volume{dddddddd-0000-0000-0000-000000000004} read-write',
      'ioctl volume2 FSCTL_LOCK_VOLUME',
      'ioctl volume2 FSCTL_DISMOUNT_VOLUME',
      'open disk \\\\.\\PhysicalDrive2 read-write',
    ]);
    const open = p.before.at(-1)!;
    expect(open.kind === 'open' && open.flags).toEqual(['FILE_SHARE_READ', 'FILE_SHARE_WRITE', 'FILE_FLAG_NO_BUFFERING', 'FILE_FLAG_WRITE_THROUGH']);
    const lock = p.before[1]!;
    expect(lock.kind === 'ioctl' && lock.code).toBe(0x00090018);
    // The disk is closed before the volume locks are released.
    expect(summary(p.after)).toEqual(['ioctl disk IOCTL_DISK_UPDATE_PROPERTIES', 'close disk', 'close volume0', 'close volume1', 'close volume2']);
  });

  it('with drivelist mount points: drive letters opened directly, a folder mount resolved first, duplicates once', () => {
    const p = win32Plan('\\\\.\\PHYSICALDRIVE3', { write: true, volumes: ['E:\\', 'C:\\cards\\sd\\', 'e:'] });
    expect(summary(p.before)).toEqual([
      'open volume0 \\\\.\\E: read-write',
      'ioctl volume0 FSCTL_LOCK_VOLUME',
      'ioctl volume0 FSCTL_DISMOUNT_VOLUME',
      'resolve volume1 C:\\cards\\sd\\',
      'ioctl volume1 FSCTL_LOCK_VOLUME',
      'ioctl volume1 FSCTL_DISMOUNT_VOLUME',
      'open disk \\\\.\\PhysicalDrive3 read-write',
    ]);
  });

  it('reading opens the drive shared, with no lock; a card with nothing mounted needs no volume steps', () => {
    expect(summary(win32Plan('\\\\.\\PhysicalDrive2', { write: false, volumes: VOLUMES }).before)).toEqual(['open disk \\\\.\\PhysicalDrive2 read']);
    expect(summary(win32Plan('PhysicalDrive5', { write: true }).before)).toEqual(['open disk \\\\.\\PhysicalDrive5 read-write']);
  });
});

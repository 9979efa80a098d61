import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attachedLoops, diskNames } from '../../src/disk/drive-names.js';
import { detachLoop, removeDir, runCli, tempDir } from '../helpers/judges.js';
import { execFileSync } from 'node:child_process';

// Issue 16: `drives --all` lists attached loop devices and names disks the way sysfs does.
const dir = tempDir('fwcard-drive-names-');
afterAll(() => removeDir(dir));

/** A file in the fake sysfs tree. */
function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), `${text}\n`);
}

/** A /sys/class/block/<name> link to its device directory, as the kernel lays them out. */
function blockLink(root: string, name: string, target: string): void {
  mkdirSync(join(root, target), { recursive: true });
  mkdirSync(join(root, 'class', 'block'), { recursive: true });
  symlinkSync(join(root, target), join(root, 'class', 'block', name));
}

describe('disk names from a fake sysfs tree (FWCARD_SYSFS_ROOT)', () => {
  const root = join(dir, 'sys');
  // A virtio disk: the PCI vendor id, no model.
  blockLink(root, 'vda', 'devices/pci0000:00/0000:00:02.0/virtio1/block/vda');
  symlinkSync(join(root, 'devices/pci0000:00/0000:00:02.0/virtio1'), join(root, 'devices/pci0000:00/0000:00:02.0/virtio1/block/vda/device'));
  put(root, 'devices/pci0000:00/0000:00:02.0/virtio1/vendor', '0x1af4');
  put(root, 'devices/pci0000:00/0000:00:02.0/virtio1/device', '0x0002');
  // A disk with a vendor id nobody named.
  blockLink(root, 'vdb', 'devices/pci0000:00/0000:00:03.0/virtio2/block/vdb');
  symlinkSync(join(root, 'devices/pci0000:00/0000:00:03.0/virtio2'), join(root, 'devices/pci0000:00/0000:00:03.0/virtio2/block/vdb/device'));
  put(root, 'devices/pci0000:00/0000:00:03.0/virtio2/vendor', '0xabcd');
  // A USB card reader: SCSI INQUIRY strings on the disk, the USB strings on the device above it.
  const usb = 'devices/pci0000:00/0000:00:14.0/usb1/1-2';
  const scsi = `${usb}/1-2:1.0/host3/target3:0:0/3:0:0:0`;
  blockLink(root, 'sdb', `${scsi}/block/sdb`);
  symlinkSync(join(root, scsi), join(root, scsi, 'block/sdb/device'));
  put(root, `${scsi}/vendor`, 'Generic ');
  put(root, `${scsi}/model`, 'STORAGE DEVICE  ');
  put(root, `${usb}/idVendor`, '0bda');
  put(root, `${usb}/idProduct`, '0158');
  put(root, `${usb}/manufacturer`, 'Generic');
  put(root, `${usb}/product`, 'USB3.0-CRW');
  // The host's own SD slot.
  const mmc = 'devices/platform/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa';
  blockLink(root, 'mmcblk0', `${mmc}/block/mmcblk0`);
  symlinkSync(join(root, mmc), join(root, mmc, 'block/mmcblk0/device'));
  put(root, `${mmc}/type`, 'SD');
  put(root, `${mmc}/name`, 'SC32G');
  // Loop devices: loop0 detached (no loop/ directory), loop1 attached to an image.
  blockLink(root, 'loop0', 'devices/virtual/block/loop0');
  put(root, 'devices/virtual/block/loop0/size', '0');
  blockLink(root, 'loop1', 'devices/virtual/block/loop1');
  put(root, 'devices/virtual/block/loop1/size', '131072');
  put(root, 'devices/virtual/block/loop1/ro', '1');
  put(root, 'devices/virtual/block/loop1/loop/backing_file', '/home/pi/card.img');

  it('virtio\'s 0x1af4 is named; an unknown id says it is a vendor id', () => {
    expect(diskNames('vda', root)).toEqual({ description: 'virtio (Red Hat) disk', usb: null });
    expect(diskNames('vdb', root).description).toBe('disk of vendor 0xabcd');
  });

  it('a USB reader: the SCSI vendor and model, and the USB manufacturer and product', () => {
    expect(diskNames('sdb', root)).toEqual({ description: 'Generic STORAGE DEVICE', usb: 'Generic USB3.0-CRW' });
  });

  it('an SD slot: the card type and its name; nothing known: empty', () => {
    expect(diskNames('mmcblk0', root).description).toBe('SD card SC32G');
    expect(diskNames('zram0', root)).toEqual({ description: '', usb: null });
  });

  it('only attached loop devices, with the backing file, size and read-only flag', () => {
    expect(attachedLoops(root)).toEqual([{ name: 'loop1', backingFile: '/home/pi/card.img', sizeBytes: 64 << 20, readOnly: true }]);
  });

  it('the environment variable is where the root comes from', () => {
    const saved = process.env.FWCARD_SYSFS_ROOT;
    process.env.FWCARD_SYSFS_ROOT = root;
    try {
      expect(diskNames('vda').description).toBe('virtio (Red Hat) disk');
      expect(attachedLoops().map((l) => l.name)).toEqual(['loop1']);
    } finally {
      if (saved === undefined) delete process.env.FWCARD_SYSFS_ROOT;
      else process.env.FWCARD_SYSFS_ROOT = saved;
    }
  });
});

describe('this machine', () => {
  it('no description is a bare vendor id, and every loop device listed is attached', () => {
    const all = JSON.parse(runCli(['drives', '--all', '--json']).stdout).drives as { device: string; description: string; bus: string; loopBackingFile: string | null }[];
    for (const d of all) expect(d.description, d.device).not.toMatch(/^0x[0-9a-f]+$/i);
    for (const d of all.filter((x) => x.bus === 'loop')) {
      const sys = `/sys/class/block/${d.device.slice(5)}/loop/backing_file`;
      expect(existsSync(sys), d.device).toBe(true);
      expect(d.loopBackingFile).toBe(readFileSync(sys, 'utf8').trim());
    }
  });

  it('a loop device this test attaches is listed under --all (marked, with its file) and gone once detached', () => {
    const img = join(dir, 'card.img');
    writeFileSync(img, Buffer.alloc(0));
    execFileSync('truncate', ['-s', '32M', img]);
    // Read-write on purpose: a loop device is listed either way, and nothing here writes to it.
    const dev = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
    try {
      const all = JSON.parse(runCli(['drives', '--all', '--json']).stdout).drives;
      expect(all.find((d: any) => d.device === dev)).toMatchObject({ bus: 'loop', loopBackingFile: img, sizeBytes: 32 << 20, isVirtual: true, hiddenBecause: 'loop device', description: `image ${img}` });
      // Not offered without --all: a loop device is used by name.
      expect(JSON.parse(runCli(['drives', '--json']).stdout).drives.map((d: any) => d.device)).not.toContain(dev);
      // In 80 columns (a pipe): the device, size and kind, then the file and the mark, wrapped
      // under the size column when the path makes the line too long; no line wider than 80.
      const text = runCli(['drives', '--all']).stdout;
      const at = text.split('\n').findIndex((l) => l.startsWith(`${dev} `));
      expect(text.split('\n')[at]).toMatch(/^\/dev\/loop\d+ +32\.0 MiB +loop\b/);
      const entry = text.split('\n').slice(at, at + 3).join('\n');
      expect(entry).toContain(`image ${img}`);
      expect(entry).toMatch(/\[loop device\]/);
      for (const l of text.split('\n')) if (l.trim().includes(' ')) expect(l.length, l).toBeLessThanOrEqual(80);
    } finally {
      detachLoop(dev);
    }
    const after = JSON.parse(runCli(['drives', '--all', '--json']).stdout).drives;
    expect(after.find((d: any) => d.loopBackingFile === img)).toBeUndefined();
  });
});

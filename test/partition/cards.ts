/**
 * Cards with real file systems on them, made by the tools that make them on a Linux machine:
 * sfdisk/sgdisk for the tables, mkfs.fat + mtools, mkfs.ext2/3/4, mkswap (through a loop device
 * over the partition), mkfs.exfat, mkntfs, cryptsetup, mkfs.btrfs, mkfs.xfs, genisoimage. Only
 * the LVM2 label is written by hand here (pvcreate comes with lvm2, which pulls in device-mapper
 * services a test machine does not need); its layout follows lvm2's lib/label/label.h.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { attachLoop, detachLoop } from '../helpers/judges.js';

export const MiB = 1024 ** 2;

function run(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}), env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
}

export function blank(path: string, bytes: number): string {
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

/** Write `bytes` at `offset` of `file` without touching the rest. */
export function poke(file: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.byteLength, offset);
  } finally {
    closeSync(fd);
  }
}

export function sfdisk(img: string, script: string): void {
  run('sfdisk', ['-q', img], script);
}

/** FAT32 with 512-byte clusters in the partition at `startSector` (`sectors` long), with some files. */
export function fatPartition(img: string, startSector: number, sectors: number, label: string, files: Record<string, string>, dirs: string[] = []): void {
  run('mkfs.fat', ['-F', '32', '-s', '1', '-n', label, '--offset', String(startSector), img, String(sectors / 2)]);
  const at = `${img}@@${startSector * 512}`;
  for (const d of dirs) run('mmd', ['-i', at, `::/${d}`]);
  const tmp = `${img}.file`;
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(tmp, text);
    run('mcopy', ['-i', at, tmp, `::/${name}`]);
  }
}

export function extPartition(img: string, startSector: number, sectors: number, label: string, kind: 'ext2' | 'ext3' | 'ext4' = 'ext4'): void {
  run(`mkfs.${kind}`, ['-q', '-F', '-L', label, '-E', `offset=${startSector * 512}`, img, `${sectors / 2}k`]);
}

/** mkswap on a loop device over the partition (mkswap has no offset option). */
export function swapPartition(img: string, startSector: number, sectors: number, label: string): void {
  const loop = attachLoop(img, startSector * 512, sectors * 512, false);
  try {
    run('mkswap', ['-L', label, loop]);
  } finally {
    detachLoop(loop);
  }
}

/** A whole-card file system made by its own tool on the image file. */
export function wholeCard(dir: string, kind: 'ext4' | 'ext2' | 'ext3' | 'exfat' | 'ntfs' | 'luks' | 'btrfs' | 'xfs' | 'iso' | 'swap64k', label: string): string {
  const img = join(dir, `whole-${kind}.img`);
  switch (kind) {
    case 'ext2':
    case 'ext3':
    case 'ext4':
      run(`mkfs.${kind}`, ['-q', '-F', '-L', label, blank(img, 64 * MiB)]);
      break;
    case 'exfat':
      run('mkfs.exfat', ['-L', label, blank(img, 64 * MiB)]);
      break;
    case 'ntfs':
      run('mkntfs', ['-q', '-F', '-Q', '-L', label, blank(img, 64 * MiB)]);
      break;
    case 'luks':
      run('cryptsetup', ['luksFormat', '--type', 'luks2', '--batch-mode', '--label', label, '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-file=-', blank(img, 32 * MiB)], 'secret');
      break;
    case 'btrfs':
      run('mkfs.btrfs', ['-q', '-L', label, blank(img, 128 * MiB)]);
      break;
    case 'xfs':
      run('mkfs.xfs', ['-q', '-L', label, blank(img, 320 * MiB)]);
      break;
    case 'iso': {
      const src = join(dir, 'iso-src');
      execFileSync('mkdir', ['-p', src]);
      writeFileSync(join(src, 'readme.txt'), 'hello');
      run('genisoimage', ['-quiet', '-V', label, '-o', img, src]);
      break;
    }
    case 'swap64k':
      run('mkswap', ['-p', '65536', '-L', label, blank(img, 64 * MiB)]);
      break;
  }
  return img;
}

/** An LVM2 physical-volume label in sector 1 (where pvcreate puts it), by hand. */
export function lvmLabel(img: string, offset = 0): void {
  const s = new Uint8Array(512);
  const dv = new DataView(s.buffer);
  s.set(new TextEncoder().encode('LABELONE'), 0);
  dv.setBigUint64(8, 1n, true); // sector this label is in
  dv.setUint32(20, 32, true); // offset of the pv_header
  s.set(new TextEncoder().encode('LVM2 001'), 24);
  s.set(new TextEncoder().encode('abcdefABCDEF0123456789ghijklmnop'), 32); // PV UUID
  dv.setBigUint64(64, BigInt(64 * MiB), true); // device size
  poke(img, offset + 512, s);
}

/** A CB1 / Armbian-style card of 1 GiB: FAT32 boot partition with files, ext4 "opi_root", swap "cb1swap". */
export function cb1Card(img: string): string {
  blank(img, 1024 * MiB);
  sfdisk(img, 'label: dos\nstart=8192, size=262144, type=c, bootable\nstart=270336, size=1048576, type=83\nstart=1318912, type=82\n');
  fatPartition(img, 8192, 262144, 'BOOT', { 'armbianEnv.txt': 'verbosity=1\n', 'boot.scr': 'x', 'a long file name.txt': 'y' }, ['dtb']);
  extPartition(img, 270336, 1048576, 'opi_root');
  swapPartition(img, 1318912, 2097152 - 1318912, 'cb1swap');
  return img;
}

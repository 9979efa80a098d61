/**
 * Card images for the check tests, built only with tools no one here wrote: truncate (sparse
 * files), sfdisk/sgdisk for partition tables, mkfs.fat/mkfs.exfat/mkntfs for file systems and
 * mtools for files. The few byte patches (a bootloader's 8.3 rename, a cut FAT chain) are done
 * at offsets mtools and the FAT spec give, and fsck.fat confirms the damage is what we meant.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
}

export function blank(path: string, bytes: number): string {
  fs.rmSync(path, { force: true });
  fs.writeFileSync(path, '');
  fs.truncateSync(path, bytes);
  return path;
}

/** sfdisk script, e.g. "label: dos\nstart=2048, type=c\n". */
export function sfdisk(img: string, script: string): void {
  run('sfdisk', ['-q', '--no-reread', '--no-tell-kernel', img], script);
}

/** mkfs.fat into the image at `offsetSectors`, `sizeSectors` long (whole rest when omitted). */
export function mkfsFat(img: string, args: string[], offsetSectors = 0, sizeSectors?: number): void {
  const a = ['-n', 'TESTCARD', '-i', '12345678', ...args];
  if (offsetSectors) a.push('--offset', String(offsetSectors));
  a.push(img);
  if (sizeSectors !== undefined) a.push(String(sizeSectors / 2)); // block count in KiB
  run('mkfs.fat', a);
}

/** Make a file system in a separate file with `mk`, then place it at `offsetSectors` (sparse copy). */
export function placeFs(img: string, offsetSectors: number, sizeBytes: number, mk: (part: string) => void): void {
  const part = `${img}.part`;
  blank(part, sizeBytes);
  mk(part);
  run('dd', [`if=${part}`, `of=${img}`, 'bs=1M', `seek=${offsetSectors * 512}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  fs.rmSync(part, { force: true });
}

export const tgt = (img: string, offsetSectors: number): string => (offsetSectors ? `${img}@@${offsetSectors * 512}` : img);

export function mcopy(img: string, offsetSectors: number, local: string, cardPath: string): void {
  execFileSync('mcopy', ['-o', '-i', tgt(img, offsetSectors), local, `::${cardPath}`], { env: MTOOLS_ENV });
}

export function mmd(img: string, offsetSectors: number, cardPath: string): void {
  execFileSync('mmd', ['-i', tgt(img, offsetSectors), `::${cardPath}`], { env: MTOOLS_ENV });
}

export function mattrib(img: string, offsetSectors: number, flags: string[], cardPath: string): void {
  execFileSync('mattrib', ['-i', tgt(img, offsetSectors), ...flags, `::${cardPath}`], { env: MTOOLS_ENV });
}

export function mren(img: string, offsetSectors: number, from: string, to: string): void {
  execFileSync('mren', ['-i', tgt(img, offsetSectors), `::${from}`, `::${to}`], { env: MTOOLS_ENV });
}

/** `mdir -a` listing (one line per entry, with long names). */
export function listing(img: string, offsetSectors: number, path = '/'): string {
  return execFileSync('mdir', ['-a', '-i', tgt(img, offsetSectors), `::${path}`], { env: MTOOLS_ENV, encoding: 'utf8' });
}

export function mtype(img: string, offsetSectors: number, cardPath: string): Buffer {
  return execFileSync('mtype', ['-i', tgt(img, offsetSectors), `::${cardPath}`], { env: MTOOLS_ENV });
}

/** Write a local file with `bytes` and return its path. */
export function localFile(dir: string, name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Find `needle` in the image between two byte offsets; returns absolute offsets. */
export function findBytes(img: string, needle: Buffer, from: number, to: number): number[] {
  const fd = fs.openSync(img, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    fs.readSync(fd, buf, 0, buf.length, from);
    const hits: number[] = [];
    for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + 1)) hits.push(from + i);
    return hits;
  } finally {
    fs.closeSync(fd);
  }
}

export function patch(img: string, offset: number, bytes: Uint8Array): void {
  const fd = fs.openSync(img, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

export function readAt(img: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(img, 'r');
  try {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

/** fsck.fat -n on the volume at `offsetSectors` (read-only loop device when partitioned). */
export function fsck(img: string, offsetSectors: number, sizeSectors?: number): { status: number | null; output: string } {
  let dev = img;
  if (offsetSectors) {
    const args = ['-f', '--show', '-r', '-o', String(offsetSectors * 512)];
    if (sizeSectors) args.push('--sizelimit', String(sizeSectors * 512));
    dev = execFileSync('losetup', [...args, img], { encoding: 'utf8' }).trim();
  }
  try {
    const r = spawnSync('fsck.fat', ['-n', dev], { encoding: 'utf8' });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    if (dev !== img) spawnSync('losetup', ['-d', dev]);
  }
}

/**
 * The standard card: MBR, one FAT partition at 8192 (type per --fs), mkfs.fat with `args`.
 * Returns the partition offset in sectors.
 */
export function fatCard(img: string, size: number, args: string[], type = 'c', start = 8192): number {
  blank(img, size);
  sfdisk(img, `label: dos\nstart=${start}, type=${type}\n`);
  mkfsFat(img, args, start, size / 512 - start);
  return start;
}

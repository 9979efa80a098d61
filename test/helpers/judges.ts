/**
 * Independent judges for the FAT volumes we write: dosfstools' fsck.fat, mtools and util-linux's
 * sfdisk — tools no one here wrote. Partitions inside image files are handed to fsck.fat through
 * a read-only loop device (fsck.fat has no offset option); mtools take an @@offset.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fsmod from 'node:fs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'fwcard-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface SfdiskPartition {
  start: number;
  size: number;
  type: string;
}

export function sfdiskJson(image: string): { label: string; partitions: SfdiskPartition[] } | null {
  const r = spawnSync('sfdisk', ['--json', image], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const t = JSON.parse(r.stdout).partitiontable;
  return { label: t.label, partitions: (t.partitions ?? []).map((p: any) => ({ start: p.start, size: p.size, type: p.type })) };
}

/** Attach a read-only loop device over part of a file; return its path. */
export function attachLoop(file: string, offsetBytes = 0, sizeBytes?: number, readOnly = true): string {
  const args = ['-f', '--show'];
  if (readOnly) args.push('-r');
  if (offsetBytes) args.push('-o', String(offsetBytes));
  if (sizeBytes !== undefined) args.push('--sizelimit', String(sizeBytes));
  args.push(file);
  return execFileSync('losetup', args, { encoding: 'utf8' }).trim();
}

export function detachLoop(dev: string): void {
  spawnSync('losetup', ['-d', dev]);
}

export interface FsckResult {
  ok: boolean;
  status: number | null;
  output: string;
}

/** fsck.fat -n (check only, change nothing) on the volume at `offsetBytes` of `file`. */
export function fsckFat(file: string, offsetBytes = 0, sizeBytes?: number): FsckResult {
  const dev = offsetBytes || sizeBytes !== undefined ? attachLoop(file, offsetBytes, sizeBytes) : file;
  try {
    const r = spawnSync('fsck.fat', ['-n', '-v', dev], { encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`;
    // fsck.fat -n exits 0 when clean, 1 when it found (and would fix) errors.
    return { ok: r.status === 0 && !/orphan|wrong|invalid|differ|dirty|error/i.test(output.replace(/Checking.*\n/g, '')), status: r.status, output };
  } finally {
    if (dev !== file) detachLoop(dev);
  }
}

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '0' };

function mtoolsTarget(file: string, offsetBytes: number): string {
  return offsetBytes ? `${file}@@${offsetBytes}` : file;
}

/** mcopy a file out of the volume; returns its bytes. */
export function mcopyOut(file: string, offsetBytes: number, path: string, dir: string): Buffer {
  const dest = join(dir, `mcopy-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  execFileSync('mcopy', ['-n', '-i', mtoolsTarget(file, offsetBytes), `::${path}`, dest], { env: MTOOLS_ENV });
  return readFileSync(dest);
}

/** mdir's listing lines for a directory. */
export function mdir(file: string, offsetBytes: number, path = '/'): string {
  return execFileSync('mdir', ['-a', '-i', mtoolsTarget(file, offsetBytes), `::${path}`], { env: MTOOLS_ENV, encoding: 'utf8' });
}

/** Cluster runs of a file per mtools' mshowfat, e.g. [[3, 4]] for a contiguous two-cluster file. */
export function clusterRuns(file: string, offsetBytes: number, path: string): [number, number][] {
  const out = execFileSync('mshowfat', ['-i', mtoolsTarget(file, offsetBytes), `::${path}`], { env: MTOOLS_ENV, encoding: 'utf8' });
  return [...out.matchAll(/<(\d+)-(\d+)>/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]);
}

/** Raw bytes of a file region (for boot sectors, MBR). */
export function readRegion(file: string, offset: number, length: number): Buffer {
  const fd = fsmod.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    fsmod.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fsmod.closeSync(fd);
  }
}

/**
 * Fingerprint of a file: size, allocated blocks, modification and change times (any write moves
 * them), plus a hash of the bytes when the file is small enough to read quickly.
 */
export function fingerprint(file: string): string {
  if (!fsmod.existsSync(file)) return 'absent';
  const st = fsmod.statSync(file, { bigint: true });
  const meta = `${st.size}:${st.blocks}:${st.mtimeNs}:${st.ctimeNs}`;
  if (st.isDirectory() || st.size > 256n * 1024n * 1024n) return meta;
  const r = spawnSync('sha256sum', [file], { encoding: 'utf8' });
  return `${meta}:${r.stdout.split(' ')[0]}`;
}

export const CLI = join(process.cwd(), 'bin', 'fwcard.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: opts.input ?? '', env: { ...process.env, ...opts.env }, timeout: 600_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** CLI text laid out for the terminal's width (issue 16), its continuation lines joined back: for matching a message whatever the width. */
export const unwrapped = (text: string): string => text.replace(/\n +/g, ' ');

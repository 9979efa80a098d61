import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync, existsSync, truncateSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertWritableDisk } from '../../src/disk/safety.js';
import { attachLoop, detachLoop, fingerprint, readRegion, removeDir, runCli, tempDir, unwrapped } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const BOARD = 'btt-octopus-f446-v1';

let dir: string;
let existing: string;
beforeAll(() => {
  dir = tempDir();
  existing = join(dir, 'existing.img');
  const r = runCli(['prepare', existing, '--size', '64M', '--board', BOARD, '--firmware', FIRMWARE, '--yes', '--json']);
  expect(r.status, r.stderr).toBe(0);
});
afterAll(() => removeDir(dir));

interface Refusal {
  name: string;
  args: () => string[];
  code: string;
  message: RegExp;
  hint: RegExp;
  /** File that must be left exactly as it was (or absent). */
  untouched: () => string;
  input?: string;
}

function expectRefused(r: Refusal) {
  const target = r.untouched();
  const before = fingerprint(target);
  const res = runCli([...r.args(), '--json']);
  expect(res.status, res.stderr + res.stdout).toBe(2);
  const doc = JSON.parse(res.stdout);
  expect(doc.ok).toBe(false);
  expect(doc.error.code).toBe(r.code);
  expect(doc.error.message).toMatch(r.message);
  expect(doc.error.hint).toMatch(r.hint);
  expect(fingerprint(target)).toBe(before);
  // The same refusal in human form names the problem and the fix on stderr.
  const human = runCli(r.args());
  expect(human.status).toBe(2);
  expect(unwrapped(human.stderr)).toMatch(r.message);
  expect(human.stderr).toMatch(/hint: /);
  expect(fingerprint(target)).toBe(before);
}

const refusals: Refusal[] = [
  {
    name: 'missing firmware file',
    args: () => ['prepare', existing, '--board', BOARD, '--firmware', join(dir, 'nope.bin'), '--yes'],
    code: 'firmware-missing', message: /does not exist/, hint: /Check the path: Klipper builds to ~\/klipper\/out\/klipper\.bin/, untouched: () => existing,
  },
  {
    name: 'empty firmware file',
    args: () => { writeFileSync(join(dir, 'empty.bin'), ''); return ['prepare', existing, '--board', BOARD, '--firmware', join(dir, 'empty.bin'), '--yes']; },
    code: 'firmware-empty', message: /empty/, hint: /rebuild/i, untouched: () => existing,
  },
  {
    name: 'oversized firmware file',
    args: () => { const p = join(dir, 'huge.bin'); writeFileSync(p, ''); truncateSync(p, 9 * 1024 * 1024); return ['prepare', existing, '--board', BOARD, '--firmware', p, '--yes']; },
    code: 'firmware-too-large', message: /larger than any/, hint: /klipper\.bin/, untouched: () => existing,
  },
  {
    name: 'firmware is a directory',
    args: () => ['prepare', existing, '--board', BOARD, '--firmware', dir, '--yes'],
    code: 'firmware-is-directory', message: /is a directory/, hint: /\.bin/, untouched: () => existing,
  },
  {
    name: 'firmware built for another MCU (inspected before anything is written)',
    args: () => ['prepare', existing, '--board', 'btt-skr-mini-e3-v3', '--firmware', FIRMWARE, '--yes'],
    code: 'firmware-mcu-mismatch', message: /built for stm32f446xx.*stm32g0b1xx/, hint: /menuconfig.*--force/, untouched: () => existing,
  },
  {
    name: 'unknown board, with close names suggested',
    args: () => ['prepare', existing, '--board', 'btt-octopus', '--firmware', FIRMWARE, '--yes'],
    code: 'unknown-board', message: /unknown board "btt-octopus"/, hint: /btt-octopus-f446-v1/, untouched: () => existing,
  },
  {
    name: 'target is a directory',
    args: () => { mkdirSync(join(dir, 'adir'), { recursive: true }); return ['prepare', join(dir, 'adir'), '--board', BOARD, '--firmware', FIRMWARE, '--yes']; },
    code: 'target-is-directory', message: /is a directory/, hint: /image file path/, untouched: () => join(dir, 'adir', 'x'),
  },
  {
    name: 'image that does not exist, without --size',
    args: () => ['prepare', join(dir, 'new.img'), '--board', BOARD, '--firmware', FIRMWARE, '--yes'],
    code: 'image-missing', message: /does not exist and no --size/, hint: /--size 8G/, untouched: () => join(dir, 'new.img'),
  },
  {
    name: 'size below the smallest FAT volume',
    args: () => ['prepare', join(dir, 'tiny.img'), '--size', '1M', '--board', BOARD, '--firmware', FIRMWARE, '--yes'],
    code: 'too-small', message: /smaller than the smallest FAT16 volume/, hint: /--size of at least/, untouched: () => join(dir, 'tiny.img'),
  },
  {
    name: 'FAT16 on a 64 GiB card',
    args: () => ['prepare', existing, '--size', '64G', '--fs', 'fat16', '--board', BOARD, '--firmware', FIRMWARE, '--yes'],
    code: 'fat16-too-large', message: /FAT16 cannot cover 64\.0 GiB/, hint: /--fs fat32/, untouched: () => existing,
  },
  {
    name: 'cluster count outside FAT32 limits',
    args: () => ['prepare', existing, '--size', '1G', '--fs', 'fat32', '--cluster', '65536', '--board', BOARD, '--firmware', FIRMWARE, '--yes'],
    code: 'bad-cluster-count', message: /FAT32 needs 65525/, hint: /smaller clusters/, untouched: () => existing,
  },
  {
    name: 'cluster size that is not a power of two',
    args: () => ['prepare', existing, '--cluster', '3000', '--board', BOARD, '--firmware', FIRMWARE, '--yes'],
    code: 'bad-cluster', message: /not a power of two/, hint: /4096/, untouched: () => existing,
  },
  {
    name: 'partition larger than the card',
    args: () => ['prepare', existing, '--partition-size', '1G', '--board', BOARD, '--firmware', FIRMWARE, '--yes'],
    code: 'partition-too-large', message: /larger than the card/, hint: /at most the card size/, untouched: () => existing,
  },
  {
    name: 'bad size text',
    args: () => ['prepare', existing, '--size', 'eight gigs', '--board', BOARD, '--firmware', FIRMWARE, '--yes'],
    code: 'bad-size', message: /cannot read --size/, hint: /64M, 2G/, untouched: () => existing,
  },
  {
    name: 'no terminal and no --yes',
    args: () => ['prepare', existing, '--board', BOARD, '--firmware', FIRMWARE],
    code: 'confirmation-needed', message: /without confirmation/, hint: /--yes/, untouched: () => existing,
  },
];

describe('prepare refuses bad input and writes nothing', () => {
  for (const r of refusals) it(r.name, () => expectRefused(r));

  it('--force writes a firmware the inspection rejects, and still reports the finding', () => {
    const img = join(dir, 'forced.img');
    const res = runCli(['prepare', img, '--size', '64M', '--board', 'btt-skr-mini-e3-v3', '--firmware', FIRMWARE, '--yes', '--force', '--json']);
    expect(res.status, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.verified).toBe(true);
    expect(doc.findings.map((f: any) => f.id)).toContain('mcu-mismatch');
  });

  it('leaves a fresh target uncreated when refusing', () => {
    expect(existsSync(join(dir, 'tiny.img'))).toBe(false);
    expect(existsSync(join(dir, 'new.img'))).toBe(false);
  });
});

function rootDisk(): string {
  const src = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).trim();
  const pk = execFileSync('lsblk', ['-n', '-d', '-o', 'PKNAME', src], { encoding: 'utf8' }).trim();
  return pk ? `/dev/${pk}` : src;
}

describe('prepare refuses devices it must not touch', () => {
  it('the system disk, with no override (read-only checks only: it is never opened for writing)', () => {
    const disk = rootDisk();
    expect(disk).toMatch(/^\/dev\//);
    for (const extra of [[], ['--force']]) {
      const res = runCli(['prepare', disk, '--board', BOARD, '--firmware', FIRMWARE, '--yes', '--json', ...extra]);
      expect(res.status).toBe(2);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.code).toBe('system-disk');
      expect(doc.error.message).toMatch(/system disk/);
      expect(doc.error.hint).toMatch(/no flag to override/);
    }
  });

  it('a card the desktop mounted is unmounted after confirmation, then prepared', () => {
    const img = join(dir, 'mounted.img');
    writeFileSync(img, '');
    truncateSync(img, 64 * 1024 * 1024);
    // ext4: this kernel may lack vfat, and unmounting is about any mounted file system.
    execFileSync('mkfs.ext4', ['-q', '-F', img], { stdio: 'ignore' });
    const loop = attachLoop(img, 0, undefined, false);
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt, { recursive: true });
    try {
      execFileSync('mount', [loop, mnt]);
      const dry = runCli(['prepare', loop, '--board', BOARD, '--firmware', FIRMWARE, '--dry-run']);
      expect(dry.status, dry.stderr).toBe(0);
      const res = runCli(['prepare', loop, '--board', BOARD, '--firmware', FIRMWARE, '--yes', '--json']);
      expect(res.status, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout).verified).toBe(true);
      expect(res.stderr).toContain(`unmounting ${mnt}`);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${mnt} `);
    } finally {
      spawnSync('umount', [mnt]);
      detachLoop(loop);
    }
  });

  it('a mounted card that is busy: unmount-failed with how to find who holds it, nothing written', async () => {
    const img = join(dir, 'busy.img');
    writeFileSync(img, '');
    truncateSync(img, 64 * 1024 * 1024);
    execFileSync('mkfs.ext4', ['-q', '-F', img], { stdio: 'ignore' });
    const loop = attachLoop(img, 0, undefined, false);
    const mnt = join(dir, 'busy-mnt');
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', [loop, mnt]);
    // An open file on the card keeps it busy (as a file manager or a shell inside it would).
    const held = openSync(join(mnt, 'open.txt'), 'w');
    try {
      const res = runCli(['prepare', loop, '--board', BOARD, '--firmware', FIRMWARE, '--yes', '--json']);
      expect(res.status).toBe(2);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.code).toBe('unmount-failed');
      expect(doc.error.hint).toMatch(/fuser -vm/);
      expect(doc.error.message).toMatch(/nothing was written/);
      // Still the user's ext4 (superblock magic 0xEF53 at byte 1080), still mounted.
      expect(readRegion(img, 1080, 2).readUInt16LE(0)).toBe(0xef53);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${mnt} `);
    } finally {
      closeSync(held);
      for (let i = 0; i < 50 && spawnSync('umount', [mnt]).status !== 0 && readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mnt} `); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      detachLoop(loop);
    }
  });

  it('a read-only device (lock switch)', () => {
    const img = join(dir, 'ro.img');
    writeFileSync(img, '');
    truncateSync(img, 64 * 1024 * 1024);
    const before = fingerprint(img);
    const loop = attachLoop(img, 0, undefined, true);
    try {
      const res = runCli(['prepare', loop, '--board', BOARD, '--firmware', FIRMWARE, '--yes', '--json']);
      expect(res.status).toBe(2);
      expect(JSON.parse(res.stdout).error.code).toBe('read-only');
      expect(JSON.parse(res.stdout).error.hint).toMatch(/lock switch/);
    } finally {
      detachLoop(loop);
    }
    expect(fingerprint(img)).toBe(before);
  });

  it('a partition instead of the whole card (rule checked on the facts sysfs gives for /dev/sdb1)', () => {
    const info = { kernelName: 'sdb1', devNumber: '8:17', isPartition: true, diskName: 'sdb', sizeBytes: 8e9, logicalSectorSize: 512, readOnly: false, removable: true, partitions: [], model: null, vendor: null, loopBackingFile: null };
    let err: any;
    try {
      assertWritableDisk('/dev/sdb1', info, { systemReasons: [], mounted: [] });
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe('is-partition');
    expect(err?.hint).toContain('/dev/sdb');
    // The same facts as a whole disk pass this rule.
    expect(() => assertWritableDisk('/dev/sdb', { ...info, kernelName: 'sdb', isPartition: false }, { systemReasons: [], mounted: [] })).not.toThrow();
  });
});

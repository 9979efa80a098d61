/**
 * macOS device paths. A card appears as /dev/diskN (buffered block device) and /dev/rdiskN
 * (raw character device): I/O through the raw node bypasses the buffer cache and is many times
 * faster for whole-card writes, but takes only sector-aligned transfers. macOS mounts the
 * card's FAT volume as soon as it appears, so it is unmounted (all its volumes:
 * `diskutil unmountDisk`) before writing; after writing, `diskutil eject` lets it be pulled
 * (otherwise macOS mounts the new volume again).
 */
import { IoError, UsageError } from '../../errors.js';
import type { DevicePlan } from './plan.js';

export interface DarwinDisk {
  /** Whole-disk number: 4 for /dev/disk4s1. */
  number: number;
  /** Slice (partition) number, or null for the whole disk. */
  slice: number | null;
  /** Given as the raw node (/dev/rdisk…). */
  raw: boolean;
}

/** Parse /dev/diskN, /dev/rdiskN, /dev/diskNsM, or the bare diskN that diskutil prints. */
export function parseDarwinDisk(path: string): DarwinDisk {
  const m = /^(?:\/dev\/)?(r?)disk(\d+)(?:s(\d+))?$/.exec(path.trim());
  if (!m) {
    throw new UsageError('not-a-mac-disk', `${path} is not a macOS disk device`, {
      hint: 'Give the card as /dev/diskN (`diskutil list external` shows it; `fwcard drives` too).',
      details: { path },
    });
  }
  return { number: Number(m[2]), slice: m[3] === undefined ? null : Number(m[3]), raw: m[1] === 'r' };
}

/** /dev/disk4 → /dev/rdisk4 (and /dev/disk4s1 → /dev/rdisk4s1): the fast, unbuffered node. */
export function darwinRawPath(path: string): string {
  const d = parseDarwinDisk(path);
  return `/dev/rdisk${d.number}${d.slice === null ? '' : `s${d.slice}`}`;
}

/** The whole disk a path belongs to, as diskutil names it: /dev/disk4s1 → /dev/disk4. */
export function darwinWholeDisk(path: string): string {
  return `/dev/disk${parseDarwinDisk(path).number}`;
}

/**
 * The plan to open a card on macOS. Writing takes the whole disk (prepare lays out the
 * partition table) and unmounts every volume on it first; reading works while mounted.
 */
export function darwinPlan(path: string, opts: { write: boolean }): DevicePlan {
  const d = parseDarwinDisk(path);
  const disk = darwinWholeDisk(path);
  if (opts.write && d.slice !== null) {
    throw new UsageError('target-is-partition', `${path} is a partition of ${disk}; fwcard writes whole cards`, {
      hint: `Give the whole card: ${disk}.`,
      details: { path, disk },
    });
  }
  const ioPath = darwinRawPath(path);
  if (!opts.write) {
    return {
      platform: 'darwin',
      disk,
      ioPath,
      ioHandle: 'disk',
      alignedIo: true,
      before: [{ kind: 'open', handle: 'disk', path: ioPath, access: 'read', flags: ['O_RDONLY'], why: 'read through the raw node: no buffer cache, whole sectors' }],
      after: [{ kind: 'close', handle: 'disk', why: 'done reading' }],
    };
  }
  return {
    platform: 'darwin',
    disk,
    ioPath,
    ioHandle: 'disk',
    alignedIo: true,
    before: [
      { kind: 'run', argv: ['diskutil', 'unmountDisk', disk], why: 'macOS mounted the card\'s volumes; writing under a mounted FAT lets the kernel write its cached copy back over ours' },
      { kind: 'open', handle: 'disk', path: ioPath, access: 'read-write', flags: ['O_RDWR', 'O_EXLOCK'], why: 'the raw node is many times faster than the buffered one; O_EXLOCK keeps other programs out while writing' },
    ],
    after: [
      { kind: 'close', handle: 'disk', why: 'flushes nothing (raw I/O is unbuffered); releases the lock' },
      { kind: 'run', argv: ['diskutil', 'eject', disk], why: 'macOS would mount the new volume again; eject so the card can be pulled' },
    ],
  };
}

/**
 * A failed `diskutil unmountDisk` as a typed error. diskutil says which volume is busy
 * ("Unmount of disk4 failed: at least one volume could not be unmounted") and, from
 * macOS 10.13, names the process ("… dissented by PID 123 (/usr/bin/foo)").
 */
export function darwinUnmountError(disk: string, output: string): IoError {
  const by = /dissented by PID (\d+)(?: \(([^)]*)\))?/.exec(output);
  const who = by ? ` (held by ${by[2] ? by[2] : 'process'} ${by[1]})` : '';
  return new IoError('device-busy', `macOS could not unmount ${disk}${who}`, {
    hint: `Close the Finder windows and programs using the card, then try again. As a last resort: \`diskutil unmountDisk force ${disk}\`.`,
    details: { disk, pid: by ? Number(by[1]) : null, output: output.trim() },
  });
}

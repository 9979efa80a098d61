import { statSync } from 'node:fs';
import type { Board } from '../../boards/types.js';
import { blockInfo, type LinuxBlockInfo } from '../../disk/linux-block.js';
import { openTarget } from '../../disk/open-target.js';
import { PartitionView } from '../../disk/partition-view.js';
import { FormatError, UsageError, fromSystemError } from '../../errors.js';
import { LocalFatVolume } from '../../fat/local-volume.js';
import { probeCard, type CardProbe } from '../../partition/probe.js';
import { cardFolder } from '../card-name.js';
import type { VolumePlace } from './types.js';

/** What prepare's target path is, before anything is opened. */
export interface DescribedTarget {
  kind: 'image' | 'block';
  exists: boolean;
  info: LinuxBlockInfo | null;
  sizeBytes: number;
}

export function describeTarget(path: string, size: number | undefined): DescribedTarget {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, path, 'inspect');
  }
  if (!st) {
    if (size === undefined) {
      if (path.startsWith('/dev/')) throw fromSystemError({ code: 'ENOENT' }, path, 'open');
      throw new UsageError('image-missing', `${path} does not exist and no --size was given`, {
        hint: 'To create an image file, pass its size, e.g. --size 8G. For a card, check the device path with `fwcard drives`.',
        details: { path },
      });
    }
    return { kind: 'image', exists: false, info: null, sizeBytes: size };
  }
  if (st.isDirectory()) throw fromSystemError({ code: 'EISDIR' }, path, 'use');
  if (st.isBlockDevice()) return describeBlockDevice(path, size);
  if (!st.isFile()) {
    throw new UsageError('not-an-image', `${path} is neither a regular file nor a block device`, {
      hint: 'Give an image file path (e.g. card.img) or a block device such as /dev/sdb.',
    });
  }
  return { kind: 'image', exists: true, info: null, sizeBytes: size ?? st.size };
}

function describeBlockDevice(path: string, size: number | undefined): DescribedTarget {
  if (size !== undefined) {
    throw new UsageError('size-on-device', `--size applies to image files; ${path} is a device`, {
      hint: 'Leave --size out (the card size is read from the device), or use --partition-size for a smaller volume.',
    });
  }
  const info = blockInfo(path);
  if (!info) throw new UsageError('not-a-block-device', `${path}: cannot read its facts from sysfs`, { hint: 'Is this Linux with /sys mounted?' });
  return { kind: 'block', exists: true, info, sizeBytes: info.sizeBytes };
}

/** The card's partition table and what each partition holds now, root listings included (read-only). */
export async function readCurrent(path: string): Promise<CardProbe | null> {
  const dev = openTarget(path, { readOnly: true });
  try {
    return await probeCard(dev, { details: true });
  } finally {
    await dev.close();
  }
}

const isFat = (fs: string | null | undefined) => fs === 'FAT12' || fs === 'FAT16' || fs === 'FAT32';

/** Where the FAT volume of an existing card is, as a bootloader finds it (first primary, or superfloppy). */
export function existingVolume(probe: CardProbe | null, path: string): { start: number; sectors: number | null } {
  if (!probe) throw new FormatError('no-filesystem', `${path} does not exist yet, so there is no volume to keep`, { hint: 'Leave --no-format out to format it.' });
  if (probe.table === 'none' && isFat(probe.superfloppyFs)) return { start: 0, sectors: null };
  const first = probe.partitions[0];
  if (probe.table === 'mbr' && first && isFat(first.fs)) return { start: first.start, sectors: first.sectors };
  const what = probe.table === 'gpt' ? 'a GPT partition table' : first ? `${first.fs} in its first partition` : `no FAT volume`;
  throw new FormatError('no-fat-volume', `${path} has ${what}; a stock bootloader cannot read that`, {
    hint: 'Format it: run the same command without --no-format (this erases the card).',
    details: { table: probe.table },
  });
}

/** Names of the files in the board's folder on the card (read-only mount). */
export async function listFolder(target: string, volume: VolumePlace, board: Board): Promise<string[]> {
  const dev = openTarget(target, { readOnly: true });
  try {
    const fat = await LocalFatVolume.mount(new PartitionView(dev, volume.start, volume.sectors));
    try {
      const folder = cardFolder(board);
      if (folder !== '/' && !(await fat.tryStat(folder))) return [];
      return (await fat.list(folder)).filter((e) => !e.isDir).map((e) => e.name);
    } finally {
      await fat.unmount();
    }
  } finally {
    await dev.close();
  }
}

import type { LocalBlockDevice } from '../../disk/block-device.js';
import type { ImageDevice } from '../../disk/image-file.js';
import { openTarget } from '../../disk/open-target.js';
import { PartitionView } from '../../disk/partition-view.js';
import type { RawDevice } from '../../disk/raw-device.js';
import { unmountAll } from '../../disk/safety.js';
import { FormatError, VerifyError } from '../../errors.js';
import { writeFatVolume } from '../../fat/format.js';
import { LocalFatVolume } from '../../fat/local-volume.js';
import type { ProgressListener } from '../../progress.js';
import { acquireLock } from '../../util/lock.js';
import { cardFolder } from '../card-name.js';
import { installFirmware } from '../install-firmware.js';
import type { PrepareOptions, PreparePlan } from './types.js';

export interface OpenedCard {
  dev: ImageDevice | RawDevice;
  /** Every sector reads as zero already (a freshly created sparse image): format skips them. */
  knownZero: boolean;
  close(): Promise<void>;
}

/** Unmount what the desktop mounted, take the card's lock and open it for writing. */
export function openForWriting(plan: PreparePlan, opts: PrepareOptions, progress: ProgressListener): OpenedCard {
  // The desktop may have mounted the card: unmount it now that the user said yes.
  if (plan.target.mounted.length) {
    progress({ phase: 'partition', label: `unmounting ${plan.target.mounted.map((m) => m.mountPoint).join(', ')}` });
    unmountAll(opts.target, plan.target.mounted);
  }
  const lock = acquireLock(opts.target, 'card');
  try {
    // Re-create (truncate, then size) only a new image or one given a --size: re-formatting an
    // existing image in place keeps its size, so a prepare killed between the two truncations
    // cannot leave an empty file that the same command then refuses (fault campaign 2).
    const recreate = plan.target.kind === 'image' && plan.format && (!plan.target.exists || opts.size !== undefined);
    const dev = openTarget(opts.target, { readOnly: false, ...(recreate ? { size: plan.target.sizeBytes } : {}) });
    const knownZero = 'fresh' in dev && dev.fresh;
    return {
      dev,
      knownZero,
      async close() {
        try {
          await dev.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** Write the planned partition table and FAT volume. */
export function formatCard(card: OpenedCard, plan: PreparePlan, opts: PrepareOptions, progress: ProgressListener): void {
  if (!plan.format || !plan.layout) return;
  progress({ phase: 'format', label: `formatting ${plan.layout.fsType}`, bytes: 0 });
  writeFatVolume(card.dev, plan.layout, { ...(opts.label !== undefined ? { label: opts.label } : {}), knownZero: card.knownZero, onProgress: progress });
}

/**
 * Put the firmware on the card's volume (installFirmware), read back through a fresh mount after
 * a flush, so nothing comes from FatFs's cache. Returns what the volume is.
 */
export async function installOnCard(card: OpenedCard, plan: PreparePlan, progress: ProgressListener): Promise<{ fs: 'FAT16' | 'FAT32'; clusterBytes: number }> {
  const view = new PartitionView(plan.format ? withHeldFlushes(card.dev) : card.dev, plan.volume.start, plan.volume.sectors);
  const fat = await LocalFatVolume.mount(view);
  try {
    const info = await fat.info();
    if (info.fsType !== 'FAT16' && info.fsType !== 'FAT32') {
      throw new FormatError('unsupported-fat', `the card's volume is ${info.fsType}; fwcard writes FAT16/FAT32 only`, { hint: 'Re-create it without --no-format.' });
    }
    const cardPath = plan.firmware.cardPath;
    await installFirmware({
      volume: fat,
      data: plan.inspection.writeBytes,
      sha256: plan.firmware.sha256,
      target: { folder: cardFolder(plan.board), path: cardPath, removes: plan.removes },
      onWrite: (e) => progress({ ...e, label: `writing ${cardPath}` }),
      readBack: async (path) => {
        progress({ phase: 'flush', label: 'flushing to the card' });
        await card.dev.flush();
        const fresh = await LocalFatVolume.mount(view);
        try {
          return await fresh.readFile(path, (e) => progress({ ...e, label: `reading back ${cardPath}` }));
        } finally {
          await fresh.unmount();
        }
      },
      mismatchError: (m) => new VerifyError('verify-mismatch', `read-back of ${m.path} does not match what was written (sha256 ${m.actual.slice(0, 12)}… vs ${m.expected.slice(0, 12)}…)`, {
        hint: 'The card or reader corrupts data: try another card or USB reader (fake-capacity cards do this too).',
        details: { expected: m.expected, actual: m.actual },
      }),
    });
    return { fs: info.fsType, clusterBytes: info.clusterBytes };
  } finally {
    await fat.unmount();
  }
}


/**
 * The device with the flushes FatFs asks for held back: only an explicit `flush()` (the one
 * before the read-back) and the close reach the medium. On a card this run has just formatted,
 * the ordered flushes of each FatFs update (MetadataBuffer: FATs, then entries, each made
 * durable before the next) protect nothing: no firmware a board could boot predates this run.
 * They cost an fsync each, a dozen per prepare. --no-format keeps them: there the old firmware
 * stays bootable until the new one is verified.
 */
function withHeldFlushes(dev: LocalBlockDevice): LocalBlockDevice {
  return {
    name: dev.name,
    sectorSize: dev.sectorSize,
    sectorCount: dev.sectorCount,
    readOnly: dev.readOnly,
    readSync: (lba, count, into) => dev.readSync(lba, count, into),
    writeSync: (lba, data) => dev.writeSync(lba, data),
    flushSync: () => undefined,
    read: (lba, count) => dev.read(lba, count),
    write: (lba, data) => dev.write(lba, data),
    flush: () => dev.flush(),
    close: () => dev.close(),
  };
}

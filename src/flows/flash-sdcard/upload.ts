import { VerifyError } from '../../errors.js';
import type { ProgressListener } from '../../progress.js';
import { installFirmware } from '../install-firmware.js';
import { perBlockProgress } from './block-progress.js';
import { linkTraffic, type LinkSnapshot } from './link-stats.js';
import type { FlashPlan, UploadPlan } from './plan.js';
import type { RemoteCard } from './remote-card.js';
import type { StopPoints } from './stop.js';
import type { UploadLinkStats } from './types.js';

export interface UploadOutcome {
  removed: string[];
  /** Upload + read-back. */
  uploadMs: number;
  link: UploadLinkStats | null;
}

/**
 * Put the firmware on the card as the plan says (installFirmware: temporary name, read back,
 * compare, stale names, rename), timing it and counting the link's traffic.
 */
export async function uploadToCard(card: RemoteCard, plan: FlashPlan & { upload: UploadPlan }, data: Uint8Array, o: { snapshot: () => LinkSnapshot; onProgress: ProgressListener; stop?: StopPoints }): Promise<UploadOutcome> {
  const { upload } = plan;
  const progress = o.onProgress;
  const label = `uploading ${upload.path}`;
  const t0 = Date.now();
  const before = o.snapshot();
  // A stop falls between the file operations (each one whole FAT update), never inside one.
  const volume = o.stop ? o.stop.volume(card.volume) : card.volume;
  // Per-block progress between FatFs's 16 KiB reports (see block-progress.ts).
  const perBlock = perBlockProgress(card.device, progress);
  perBlock.listener({ phase: 'upload', label, bytes: 0, total: data.byteLength });
  const { removed } = await installFirmware({
    volume,
    data,
    sha256: plan.firmware.sha256,
    target: { folder: upload.folder ?? '/', path: upload.path, removes: plan.removals },
    onWrite: (e) => perBlock.listener({ ...e, phase: 'upload', label }),
    readBack: (path, bytes) => {
      perBlock.listener({ phase: 'verify', label: 'reading back from the card', bytes: 0, total: bytes });
      // The read-back is one long file: have its clusters fetched in long runs over the MCU.
      card.readAhead(bytes);
      return volume.readFile(path, (e) => perBlock.listener({ ...e, phase: 'verify', label: 'reading back from the card' }));
    },
    mismatchError: ({ expected, actual }) =>
      new VerifyError('checksum-mismatch', `Checksum Mismatch: the file read back from the card differs from ${plan.firmware.path}`, {
        hint: 'The card or the link corrupts data. Run again; if it repeats, try -s off/on, another card, or reflash by hand.',
        details: { expected, actual },
      }),
  }).finally(perBlock.stop);
  const uploadMs = Date.now() - t0;
  const link = linkTraffic(before, o.snapshot());
  progress({ phase: 'verify', label: `${upload.path} verified on the card`, bytes: data.byteLength, total: data.byteLength, done: true });
  return { removed, uploadMs, link };
}

import { VerifyError } from '../../errors.js';
import type { RemoteFatVolume } from '../../fat/remote-volume.js';
import type { ProgressListener } from '../../progress.js';
import { sha256 } from '../firmware-file.js';
import { linkTraffic, type LinkSnapshot } from './link-stats.js';
import type { FlashPlan, UploadPlan } from './plan.js';
import type { RemoteCard } from './remote-card.js';
import type { UploadLinkStats } from './types.js';

export interface UploadOutcome {
  removed: string[];
  /** Upload + read-back. */
  uploadMs: number;
  link: UploadLinkStats | null;
}

/** Put the firmware on the card as the plan says, timing it and counting the link's traffic. */
export async function uploadToCard(card: RemoteCard, plan: FlashPlan & { upload: UploadPlan }, data: Uint8Array, o: { snapshot: () => LinkSnapshot; onProgress: ProgressListener }): Promise<UploadOutcome> {
  const { upload } = plan;
  if (upload.folder) await card.volume.mkdir(upload.folder);
  const t0 = Date.now();
  const before = o.snapshot();
  const removed = await installFirmware(card.volume, {
    ...upload,
    data,
    sha256: plan.firmware.sha256,
    source: plan.firmware.path,
    removals: plan.removals,
    // The read-back is one long file: fetch its clusters in long runs.
    beforeReadBack: () => card.readAhead(data.byteLength),
    onProgress: o.onProgress,
  });
  const uploadMs = Date.now() - t0;
  const link = linkTraffic(before, o.snapshot());
  o.onProgress({ phase: 'verify', label: `${upload.path} verified on the card`, bytes: data.byteLength, total: data.byteLength, done: true });
  return { removed, uploadMs, link };
}

interface InstallOptions {
  temporary: string;
  path: string;
  data: Uint8Array;
  sha256: string;
  /** The host file, for messages. */
  source: string;
  removals: string[];
  beforeReadBack: () => void;
  onProgress: ProgressListener;
}

/**
 * Temporary name, write, read back, compare, remove the stale names, then the name the
 * bootloader looks for: a cut at any point never leaves a half-written file under that name.
 * (Issue 13: to be replaced by flows/install-firmware.ts, which prepare uses too.)
 */
async function installFirmware(volume: RemoteFatVolume, o: InstallOptions): Promise<string[]> {
  const label = `uploading ${o.path}`;
  if (await volume.tryStat(o.temporary)) await volume.unlink(o.temporary);
  o.onProgress({ phase: 'upload', label, bytes: 0, total: o.data.byteLength });
  await volume.writeFile(o.temporary, o.data, (e) => o.onProgress({ ...e, phase: 'upload', label }));
  o.onProgress({ phase: 'verify', label: 'reading back from the card', bytes: 0, total: o.data.byteLength });
  o.beforeReadBack();
  const back = await volume.readFile(o.temporary, (e) => o.onProgress({ ...e, phase: 'verify', label: 'reading back from the card' }));
  const actual = sha256(back);
  if (actual !== o.sha256) {
    await volume.unlink(o.temporary).catch(() => undefined);
    throw new VerifyError('checksum-mismatch', `Checksum Mismatch: the file read back from the card differs from ${o.source}`, {
      hint: 'The card or the link corrupts data. Run again; if it repeats, try -s off/on, another card, or reflash by hand.',
      details: { expected: o.sha256, actual },
    });
  }
  for (const p of o.removals) await volume.unlink(p);
  if (await volume.tryStat(o.path)) await volume.unlink(o.path);
  await volume.rename(o.temporary, o.path);
  return o.removals;
}

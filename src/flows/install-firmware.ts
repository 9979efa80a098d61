import { VerifyError } from '../errors.js';
import type { FatFileSystem } from '../fat/file-system.js';
import type { ProgressListener } from '../progress.js';
import type { CardTarget } from './card-name.js';
import { sha256 } from './firmware-file.js';

/** The temporary name of an upload, in the board's folder: never a name a bootloader takes. */
export const TEMP_NAME = 'FWCARD.TMP';

export interface InstallFirmwareOptions {
  /** The mounted card (LocalFatVolume or RemoteFatVolume). */
  volume: FatFileSystem;
  /** The bytes to put on the card (after any conversion the board needs). */
  data: Uint8Array;
  /** sha256 of `data` (hex), when the caller has it already; computed otherwise. */
  sha256?: string;
  /** Where it goes and which old files go: planCardTarget() in card-name.ts. */
  target: CardTarget;
  /** Progress of the write of the temporary file. */
  onWrite?: ProgressListener;
  /**
   * How the temporary file is read back (default: `volume.readFile(path, onReadBack)` on this
   * mount). prepare reads through a fresh mount after a flush, so nothing comes from FatFs's
   * window; flash-sdcard asks its card to read ahead `bytes` first, so the clusters travel in
   * long runs over the MCU.
   */
  readBack?: (path: string, bytes: number) => Promise<Uint8Array>;
  /** Progress of the default read-back. */
  onReadBack?: ProgressListener;
  /**
   * The error to throw when the read-back differs (each command keeps its own code and words);
   * default: VerifyError `checksum-mismatch`. The temporary file is removed before it is thrown.
   */
  mismatchError?: (m: { path: string; expected: string; actual: string }) => Error;
}

export interface InstallFirmwareResult {
  /** The firmware's final path on the card (= target.path). */
  path: string;
  /** sha256 (hex) of what was written and read back: they are equal. */
  sha256: string;
  /** Old files removed (paths), in the order they went. */
  removed: string[];
}

/**
 * Put a firmware file on a mounted card so that the bootloader only ever sees a whole, verified
 * file under its name:
 *   1. create the board's folder; remove a FWCARD.TMP an earlier run left;
 *   2. write FWCARD.TMP (writeFile allocates the whole chain first, so a run killed mid-write
 *      would otherwise leave a full-size firmware.bin whose tail was never written);
 *   3. read it back and compare sha256 (on a mismatch: remove it, throw);
 *   4. remove the stale names (other *.bin on unique-name boards), then a file at the final name;
 *   5. rename FWCARD.TMP to the final name.
 * The old firmware stays on the card until the new one is verified.
 */
export async function installFirmware(o: InstallFirmwareOptions): Promise<InstallFirmwareResult> {
  const { volume, data, target } = o;
  const expected = o.sha256 ?? sha256(data);
  if (target.folder !== '/') await volume.mkdir(target.folder);
  const tmp = `${target.folder === '/' ? '' : target.folder}/${TEMP_NAME}`;
  if (await volume.tryStat(tmp)) await volume.unlink(tmp);
  await volume.writeFile(tmp, data, o.onWrite);

  const back = o.readBack ? await o.readBack(tmp, data.byteLength) : await volume.readFile(tmp, o.onReadBack);
  const actual = sha256(back);
  if (actual !== expected) {
    await volume.unlink(tmp).catch(() => undefined);
    throw (o.mismatchError ?? defaultMismatch)({ path: target.path, expected, actual });
  }

  const removed: string[] = [];
  for (const path of target.removes) {
    await volume.unlink(path);
    removed.push(path);
  }
  if (await volume.tryStat(target.path)) await volume.unlink(target.path);
  await volume.rename(tmp, target.path);
  return { path: target.path, sha256: expected, removed };
}

function defaultMismatch(m: { path: string; expected: string; actual: string }): Error {
  return new VerifyError('checksum-mismatch', `the copy of ${m.path} read back from the card differs from what was written`, {
    hint: 'The card or the link corrupts data: try again, then another card or reader.',
    details: { expected: m.expected, actual: m.actual },
  });
}

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { UsageError, advice, fromSystemError, hasCode } from '../errors.js';
import { formatBytes } from '../util/size.js';

/** The largest firmware any SD bootloader in the catalog could take (2 MiB flash parts exist). */
export const MAX_FIRMWARE_BYTES = 8 * 1024 * 1024;

export interface FirmwareFile {
  path: string;
  bytes: Uint8Array;
  sha256: string;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A firmware path that names nothing: about the path and where Klipper's build lands, not about
 * drives (the generic not-found hint points at `fwcard drives`, which lists cards, not files).
 */
export function firmwareMissing(path: string): UsageError {
  return new UsageError('firmware-missing', `firmware file ${path} does not exist`, {
    ...advice`Check the path: Klipper builds to ~/klipper/out/klipper.bin (${{ argv: ['make'], why: 'builds the firmware (out/klipper.bin) in the Klipper folder' }} in ~/klipper first).`,
    details: { path },
  });
}

/** Read the firmware the user named, refusing what cannot be a firmware image. */
export function readFirmwareFile(path: string): FirmwareFile {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const err = fromSystemError(e, path, 'read the firmware');
    if (hasCode(err, 'not-found')) throw firmwareMissing(path);
    throw err;
  }
  if (st.isDirectory()) {
    throw new UsageError('firmware-is-directory', `${path} is a directory, not a firmware file`, {
      hint: 'Point --firmware at the .bin file, e.g. ~/klipper/out/klipper.bin.',
      details: { path },
    });
  }
  if (st.size === 0) {
    throw new UsageError('firmware-empty', `firmware file ${path} is empty`, {
      hint: 'The build probably failed: rebuild the firmware and check the build output.',
      details: { path },
    });
  }
  if (st.size > MAX_FIRMWARE_BYTES) {
    throw new UsageError('firmware-too-large', `${path} is ${formatBytes(st.size)}, larger than any SD-bootloader board's flash (${formatBytes(MAX_FIRMWARE_BYTES)})`, {
      hint: 'This is not a firmware .bin (an SD image? an archive?). Use the klipper.bin / firmware.bin from the build.',
      details: { path, size: st.size },
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw fromSystemError(e, path, 'read the firmware');
  }
  return { path, bytes, sha256: sha256(bytes) };
}

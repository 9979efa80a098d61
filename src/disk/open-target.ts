import { statSync } from 'node:fs';
import { fromSystemError } from '../errors.js';
import { openImageFile, type ImageDevice } from './image-file.js';
import { openRawDevice, type RawDevice } from './raw-device.js';

export interface OpenTargetOptions {
  readOnly: boolean;
  /** Image files only: create (or re-create) the image with this many bytes. */
  size?: number;
}

/**
 * Open what the user named as a card: a block device (/dev/sdX, /dev/loopN) through
 * openRawDevice, with its safety rules when writing, anything else as an image file. The one
 * place that tells the two apart, so every command treats the same path the same way.
 */
export function openTarget(path: string, o: OpenTargetOptions): ImageDevice | RawDevice {
  let isBlock = false;
  try {
    isBlock = statSync(path).isBlockDevice();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A missing path is a new image when a size is given; otherwise the path is wrong.
    if (code !== 'ENOENT' || o.size === undefined) throw fromSystemError(e, path, 'open');
  }
  if (isBlock) return openRawDevice(path, { readOnly: o.readOnly });
  return openImageFile(path, { readOnly: o.readOnly, ...(o.size !== undefined ? { size: o.size } : {}) });
}

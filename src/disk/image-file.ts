import { constants, ftruncateSync, openSync, statSync, closeSync } from 'node:fs';
import { UsageError, fromSystemError } from '../errors.js';
import { FdDevice } from './fd-device.js';

export const IMAGE_SECTOR_SIZE = 512;

export interface OpenImageOptions {
  /** Create (or resize) the image to this many bytes. Sparse: no data blocks are allocated. */
  size?: number;
  readOnly?: boolean;
}

export class ImageDevice extends FdDevice {
  /** True when this open created or re-sized the file: every sector is known to read as zero. */
  fresh = false;
}

/** Open an existing image file, or create a sparse one of `size` bytes. */
export function openImageFile(path: string, opts: OpenImageOptions = {}): ImageDevice {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fromSystemError(e, path, 'open');
  }
  if (st?.isDirectory()) throw fromSystemError({ code: 'EISDIR' }, path, 'open');
  if (st && !st.isFile()) {
    throw new UsageError('not-an-image', `${path} is neither a regular file nor a block device`, {
      hint: 'Give an image file path (e.g. card.img) or a block device such as /dev/sdb.',
    });
  }
  if (!st && opts.size === undefined) {
    throw new UsageError('image-missing', `${path} does not exist and no --size was given`, {
      hint: `Pass --size to create a new image, e.g. \`--size 8G\`.`,
      details: { path },
    });
  }
  const size = opts.size ?? Number(st!.size);
  if (size % IMAGE_SECTOR_SIZE !== 0 || size <= 0) {
    throw new UsageError('bad-image-size', `${path}: size ${size} bytes is not a positive multiple of ${IMAGE_SECTOR_SIZE}`, {
      hint: 'Use a size such as 64M, 2G or 32G.',
    });
  }
  const readOnly = opts.readOnly ?? false;
  let fd: number;
  try {
    fd = openSync(path, readOnly ? constants.O_RDONLY : constants.O_RDWR | constants.O_CREAT, 0o644);
  } catch (e) {
    throw fromSystemError(e, path, 'open');
  }
  let fresh = false;
  if (opts.size !== undefined && !readOnly) {
    try {
      // Truncate to zero first so every old data block is released: the new image reads as all
      // zeros and stays sparse, which lets the formatter skip writing zero sectors.
      ftruncateSync(fd, 0);
      ftruncateSync(fd, size);
      fresh = true;
    } catch (e) {
      closeSync(fd);
      throw fromSystemError(e, path, 'resize');
    }
  }
  const dev = new ImageDevice({ name: path, fd, sectorSize: IMAGE_SECTOR_SIZE, sectorCount: size / IMAGE_SECTOR_SIZE, readOnly });
  dev.fresh = fresh;
  return dev;
}

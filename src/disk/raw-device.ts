import { constants, openSync, statSync } from 'node:fs';
import { IoError, UsageError, fromSystemError } from '../errors.js';
import { FdDevice } from './fd-device.js';
import { blockInfo, type LinuxBlockInfo } from './linux-block.js';
import { assertWritableDisk } from './safety.js';

export class RawDevice extends FdDevice {
  info!: LinuxBlockInfo;
}

/**
 * Open a Linux block device (/dev/sdX, /dev/mmcblkN, /dev/loopN). Capacity and sector size come
 * from sysfs. For writing, the safety rules run first and the device is opened O_EXCL, which
 * Linux refuses (EBUSY) while anything has it mounted or claimed. macOS (/dev/rdiskN) and
 * Windows (\\.\PhysicalDriveN) paths plug in here.
 */
export function openRawDevice(path: string, opts: { readOnly: boolean }): RawDevice {
  if (process.platform !== 'linux') {
    throw new UsageError('unsupported-platform', `raw devices are supported on Linux only in this version (${process.platform})`, {
      hint: 'Prepare an image file instead (fwcard prepare card.img --size 8G …) and write it with your OS tools.',
    });
  }
  let info: LinuxBlockInfo | null;
  try {
    statSync(path);
    info = blockInfo(path);
  } catch (e) {
    throw fromSystemError(e, path, 'open');
  }
  if (!info) {
    throw new UsageError('not-a-block-device', `${path} is not a block device`, { hint: 'Give /dev/sdX, /dev/mmcblkN or an image file path.' });
  }
  // An empty card reader is a block device of 0 sectors: say so before anything reads past its end
  // (which read as a broken partition table) or a safety rule calls it read-only.
  if (info.sizeBytes === 0) {
    throw new IoError('no-card-in-reader', `${path} reports 0 sectors: there is no card in the reader`, {
      hint: 'Insert the microSD card (push it in until it clicks, or re-seat the reader) and run the command again.',
      details: { path },
    });
  }
  if (!opts.readOnly) assertWritableDisk(path, info);
  let fd: number;
  try {
    fd = openSync(path, opts.readOnly ? constants.O_RDONLY : constants.O_RDWR | constants.O_EXCL);
  } catch (e) {
    throw fromSystemError(e, path, opts.readOnly ? 'open' : 'open exclusively');
  }
  const dev = new RawDevice({
    name: path,
    fd,
    sectorSize: info.logicalSectorSize,
    sectorCount: Math.floor(info.sizeBytes / info.logicalSectorSize),
    readOnly: opts.readOnly,
  });
  dev.info = info;
  return dev;
}

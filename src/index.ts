/**
 * fwcard as a library: the flows the CLI runs, and the layers they stand on.
 * The CLI (bin/fwcard.js) is one user of this API.
 */
export { prepare, planPrepare, type PrepareOptions, type PreparePlan, type PrepareResult } from './flows/prepare.js';
export { flashSdcard, type FlashSdcardOptions, type FlashSdcardResult } from './flows/flash-sdcard/index.js';
export { check, checkCard } from './flows/check.js';
export { loadCatalog, Catalog } from './boards/catalog.js';
export type { Board } from './boards/types.js';
export { inspectFirmware, convertForBoard, extractKlipperDictionary } from './firmware/index.js';
export { planLayout, type Layout } from './fat/layout.js';
export { FatVolume } from './fat/fat-volume.js';
export { RemoteFatVolume } from './fat/remote-volume.js';
export { openImageFile } from './disk/image-file.js';
export { openRawDevice } from './disk/raw-device.js';
export { PartitionView } from './disk/partition-view.js';
export type { BlockDevice, SyncBlockDevice } from './disk/block-device.js';
export { listDrives } from './disk/drives.js';
export { FwcardError, UsageError, IoError, SafetyError, VerifyError, FormatError, DeviceError } from './errors.js';
export type { ProgressEvent, ProgressListener } from './progress.js';

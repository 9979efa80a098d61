/** Raw, read-only FAT inspection for `check` (and `doctor`): trusts nothing, reads only what it needs. */
export { parseBootSector, fatTypeOf, FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS, type BootSector, type FatBootSector, type OtherBootSector, type FatType } from '../../partition/boot-sector.js';
export { parseFsInfo, type FsInfo } from './fs-info.js';
export { parseDirectory, lfnChecksum, isShortName, ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_HIDDEN, ATTR_READ_ONLY, ATTR_SYSTEM, ATTR_VOLUME_ID, type DirEntry, type DirListing, type OrphanLfn, type SlotAddress, type LfnProblem } from './dir-entries.js';
export { FatTable, clusterRuns, type ChainWalk } from './fat-table.js';
export { FatInspector, type FatVolumeFacts, type DirectoryRead, type FileRead } from './volume.js';
export { SectorReader } from './sector-reader.js';

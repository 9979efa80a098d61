import { UsageError } from '../errors.js';
import { formatBytes } from '../util/size.js';
import { CHS_LIMIT_LBA } from '../partition/mbr.js';

/**
 * Planning an SD card's partition and FAT layout, as pure arithmetic.
 *
 * The rules follow the SD Association's File System Specification (Part 2), as its own SD
 * Formatter and SdFat's FatFormatter apply them:
 *  - the partition starts on a boundary unit (BU, the card's erase/allocation unit) and the FAT
 *    data area (cluster 2) starts on a BU boundary too, so every cluster lies inside one flash
 *    block: FAT32 pads the reserved area, FAT16 (whose reserved area is one sector) moves the
 *    partition start instead;
 *  - BU and cluster size depend on capacity: SDSC ≤ 2 GB uses FAT16 with 16 KiB (≤ 1 GiB) or
 *    32 KiB clusters on a 64 KiB BU; SDHC (≤ 32 GB) uses FAT32 with 32 KiB clusters on a 4 MiB
 *    BU; SDXC's allocation unit is 16 MiB. The spec gives SDXC exFAT, which no 3D-printer
 *    bootloader reads, so we keep FAT32 there with 32 KiB clusters — the largest cluster that
 *    Microsoft's FAT specification calls broadly compatible.
 *  - FAT type is decided by cluster count (Microsoft FAT spec): FAT16 has 4085..65524 clusters,
 *    FAT32 at least 65525.
 */
export type FatType = 'FAT16' | 'FAT32';

export interface LayoutRequest {
  /** Card (or image) size in sectors. */
  deviceSectors: number;
  sectorSize?: number;
  fs?: 'auto' | 'fat16' | 'fat32';
  /** Cluster size in bytes (power of two, 512 … 65536). */
  clusterBytes?: number;
  /** Partition (volume) size in bytes; default: the rest of the card. */
  partitionBytes?: number;
  /** false: a partitionless "superfloppy" volume starting at sector 0. */
  mbr?: boolean;
  /** Largest cluster the board's bootloader handles, from the catalog. */
  maxClusterBytes?: number;
  /** File systems the board accepts, from the catalog (auto picks among these). */
  boardFileSystems?: string[];
}

export interface Layout {
  fsType: FatType;
  sectorSize: number;
  /** Card kind by capacity, as the SD spec names it. */
  cardKind: 'SDSC' | 'SDHC' | 'SDXC';
  /** Boundary unit in sectors: partition and data area are aligned to it. */
  boundaryUnit: number;
  mbr: boolean;
  /** First sector of the volume on the card (0 for a superfloppy). */
  partitionStart: number;
  /** Volume size in sectors. */
  partitionSectors: number;
  /** MBR partition type byte (0 for a superfloppy). */
  partitionType: number;
  sectorsPerCluster: number;
  clusterBytes: number;
  reservedSectors: number;
  fatCount: 2;
  sectorsPerFat: number;
  /** FAT16: 512 root entries in a fixed region; FAT32: 0 (root is a cluster chain). */
  rootEntries: number;
  rootDirSectors: number;
  /** First sector of the data area, relative to the volume. */
  dataStart: number;
  clusterCount: number;
  /** Absolute sector of the data area on the card: a multiple of `boundaryUnit`. */
  dataStartAbsolute: number;
}

const FAT16_MIN_CLUSTERS = 4085;
const FAT16_MAX_CLUSTERS = 65524;
const FAT32_MIN_CLUSTERS = 65525;
/** FAT32 entries are 28 bits; 0x0FFFFFF5 and above are reserved values. */
const FAT32_MAX_CLUSTERS = 0x0ffffff5 - 2;
/**
 * Clusters kept between a volume and a FAT-type limit (4085, 65525): `fwcard check` warns when a
 * count is within 16 of one (fat-type-ambiguous), so every volume prepare writes stays 17 away.
 */
export const FAT_TYPE_MARGIN = 17;
/** Smallest volume we will format: a FAT16 volume needs 4085 clusters. */
export const MIN_VOLUME_BYTES = 2 * 1024 * 1024;

/** SDSC tops out at 2 GiB (CSD v1 with 1024-byte blocks). */
export const SDSC_MAX_BYTES = 2 * 1024 ** 3;
/** SDHC: CSD v2 C_SIZE up to 0xFF5F, capacity (C_SIZE + 1) × 512 KiB ("32 GB"). */
export const SDHC_MAX_BYTES = (0xff5f + 1) * 512 * 1024;

export function cardKind(bytes: number): Layout['cardKind'] {
  if (bytes <= SDSC_MAX_BYTES) return 'SDSC';
  if (bytes <= SDHC_MAX_BYTES) return 'SDHC';
  return 'SDXC';
}

/** SD-spec boundary unit (sectors) and cluster size (bytes) for a capacity. */
function sdRules(bytes: number, fs: FatType): { bu: number; cluster: number } {
  const MiB = 1024 * 1024;
  if (fs === 'FAT16') {
    if (bytes <= 8 * MiB) return { bu: 16, cluster: 8 * 1024 };
    if (bytes <= 64 * MiB) return { bu: 32, cluster: 16 * 1024 };
    if (bytes <= 256 * MiB) return { bu: 64, cluster: 16 * 1024 };
    if (bytes <= 1024 * MiB) return { bu: 128, cluster: 16 * 1024 };
    return { bu: 128, cluster: 32 * 1024 };
  }
  const kind = cardKind(bytes);
  if (kind === 'SDXC') return { bu: 32768, cluster: 32 * 1024 };
  if (kind === 'SDHC') return { bu: 8192, cluster: 32 * 1024 };
  // FAT32 forced on a small card: keep a 4 MiB-aligned layout only when the card is large enough.
  return { bu: bytes >= 256 * MiB ? 8192 : 128, cluster: 4 * 1024 };
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

interface Geometry {
  reserved: number;
  fatSectors: number;
  dataStart: number;
  clusters: number;
}

/**
 * Solve the FAT size for a volume: the FAT must hold an entry for every cluster the data area
 * ends up with, and the data area shrinks as the FAT grows. Iterate to the fixed point, then
 * pad so that the data area lands on a BU boundary.
 */
function solve(fs: FatType, volSectors: number, spc: number, sectorSize: number, rootSectors: number, minReserved: number, alignFrom: number, bu: number): Geometry {
  const entryBytes = fs === 'FAT32' ? 4 : 2;
  // The FAT only grows from one pass to the next, so this converges; a FAT a few sectors
  // larger than strictly needed is allowed by the FAT spec (fsck.fat and FatFs accept it).
  let fatSectors = 1;
  for (;;) {
    // Padding to the boundary unit: FAT32 grows the reserved area (SD spec), so does a
    // superfloppy FAT16 (alignFrom = 0). FAT16 under an MBR moves the partition (done by caller).
    const rawStart = minReserved + 2 * fatSectors + rootSectors;
    const pad = (bu - ((alignFrom + rawStart) % bu)) % bu;
    const reserved = minReserved + pad;
    const dataStart = reserved + 2 * fatSectors + rootSectors;
    const clusters = Math.max(0, Math.floor((volSectors - dataStart) / spc));
    const need = Math.ceil(((clusters + 2) * entryBytes) / sectorSize);
    if (need <= fatSectors) return { reserved, fatSectors, dataStart, clusters };
    fatSectors = need;
  }
}

export function planLayout(req: LayoutRequest): Layout {
  const sectorSize = req.sectorSize ?? 512;
  const deviceBytes = req.deviceSectors * sectorSize;
  const mbr = req.mbr ?? true;
  if (sectorSize !== 512) {
    throw new UsageError('sector-size', `this card reports ${sectorSize}-byte sectors; SD cards and printer bootloaders use 512`, {
      hint: 'Use a real SD card (or an image file); 4K-sector USB drives are not read by printer bootloaders.',
    });
  }
  if (deviceBytes < MIN_VOLUME_BYTES) {
    throw new UsageError('too-small', `${formatBytes(deviceBytes)} is smaller than the smallest FAT16 volume fwcard makes (${formatBytes(MIN_VOLUME_BYTES)})`, {
      hint: 'Use a larger card or --size of at least 8M.',
    });
  }
  if (req.deviceSectors > 0xffffffff) {
    throw new UsageError('too-large', `${formatBytes(deviceBytes)} is more than an MBR can address (2 TiB)`, {
      hint: 'Use --partition-size to make a smaller FAT32 volume at the start of the card, e.g. --partition-size 32G.',
    });
  }
  if (req.clusterBytes !== undefined && (!isPow2(req.clusterBytes) || req.clusterBytes < 512 || req.clusterBytes > 65536)) {
    throw new UsageError('bad-cluster', `cluster size ${req.clusterBytes} is not a power of two from 512 to 65536 bytes`, {
      hint: 'Pick one of 512, 1024, 2048, 4096, 8192, 16384, 32768 (or 65536, which many bootloaders reject).',
    });
  }

  const requestedPart = req.partitionBytes;
  const volumeBytesWanted = requestedPart ?? deviceBytes;
  if (requestedPart !== undefined) {
    if (requestedPart > deviceBytes) {
      throw new UsageError('partition-too-large', `--partition-size ${formatBytes(requestedPart)} is larger than the card (${formatBytes(deviceBytes)})`, {
        hint: 'Give a partition size at most the card size, or leave --partition-size out to use the whole card.',
      });
    }
    if (requestedPart < MIN_VOLUME_BYTES) {
      throw new UsageError('too-small', `--partition-size ${formatBytes(requestedPart)} is below the smallest FAT16 volume (${formatBytes(MIN_VOLUME_BYTES)})`, {
        hint: 'Use --partition-size 8M or more.',
      });
    }
  }

  const fsType = chooseFs(req, volumeBytesWanted);
  const rules = sdRules(volumeBytesWanted, fsType);
  // SD alignment rules are about the card, so the BU comes from the card's capacity.
  const bu = sdRules(deviceBytes, fsType).bu;
  const rootEntries = fsType === 'FAT16' ? 512 : 0;
  const rootSectors = (rootEntries * 32) / sectorSize;
  const minReserved = fsType === 'FAT32' ? 32 : 1;

  let cluster = req.clusterBytes ?? rules.cluster;
  if (req.clusterBytes === undefined && req.maxClusterBytes !== undefined) cluster = Math.min(cluster, req.maxClusterBytes);

  const [min, max] = fsType === 'FAT16' ? [FAT16_MIN_CLUSTERS, FAT16_MAX_CLUSTERS] : [FAT32_MIN_CLUSTERS, FAT32_MAX_CLUSTERS];
  // Keep clear of the FAT-type limits: readers that count clusters slightly differently must
  // still agree on the FAT type, and fwcard check warns within 16 clusters of a limit.
  const lo = min + FAT_TYPE_MARGIN;
  const hi = fsType === 'FAT16' ? max - FAT_TYPE_MARGIN : max;
  const plan = (c: number, sectors?: number): Layout => tryLayout(fsType, c, bu, mbr, req.deviceSectors, sectors, sectorSize, rootEntries, rootSectors, minReserved);
  for (let attempt = 0; attempt < 12; attempt++) {
    const layout = plan(cluster, requestedPart === undefined ? undefined : Math.floor(requestedPart / sectorSize));
    if (layout.clusterCount >= lo && layout.clusterCount <= hi) {
      if (req.maxClusterBytes !== undefined && layout.clusterBytes > req.maxClusterBytes && req.clusterBytes !== undefined) {
        throw new UsageError('cluster-too-large-for-board', `${layout.clusterBytes}-byte clusters are larger than this board's bootloader handles (${req.maxClusterBytes})`, {
          hint: `Leave --cluster out, or use --cluster ${req.maxClusterBytes} or smaller.`,
        });
      }
      return layout;
    }
    // A FAT16 volume just over the top (an exactly 1 GiB or 2 GiB card) is trimmed by a few
    // clusters rather than given clusters twice as large (or 64 KiB ones, which many readers reject).
    if (fsType === 'FAT16' && layout.clusterCount > hi && layout.clusterCount - hi <= 64) {
      const trimmed = trimFat16(layout, hi, plan);
      if (trimmed) return trimmed;
    }
    if (req.clusterBytes !== undefined) {
      throw new UsageError('bad-cluster-count', `${fsType} with ${req.clusterBytes}-byte clusters on ${formatBytes(layout.partitionSectors * sectorSize)} gives ${layout.clusterCount} clusters; ${fsType} needs ${min}..${max}, and fwcard keeps ${FAT_TYPE_MARGIN} clear of the FAT-type limits (${lo}..${hi})`, {
        hint: fsType === 'FAT16'
          ? (layout.clusterCount > hi ? 'Use larger clusters, --fs fat32, or a smaller --partition-size.' : 'Use smaller clusters or --fs fat32… or a larger volume.')
          : (layout.clusterCount < lo ? 'Use smaller clusters (e.g. --cluster 512) or --fs fat16.' : 'Use larger clusters.'),
        details: { fs: fsType, clusterBytes: req.clusterBytes, clusterCount: layout.clusterCount },
      });
    }
    if (layout.clusterCount < lo) {
      if (cluster <= 512) break;
      cluster /= 2;
    } else if (fsType === 'FAT16' && cluster >= 32768) {
      throw new UsageError('fat16-too-large', `FAT16 with 32 KiB clusters covers at most 2 GiB; this volume is ${formatBytes(layout.partitionSectors * sectorSize)}`, {
        hint: 'Use --fs fat32, or --partition-size 2G for a FAT16 volume (or --cluster 65536, which many bootloaders reject).',
        details: { bytes: layout.partitionSectors * sectorSize },
      });
    } else {
      if (cluster >= 65536) break;
      cluster *= 2;
    }
  }
  const volBytes = formatBytes(volumeBytesWanted);
  throw new UsageError('impossible-layout', `${fsType} cannot be laid out on ${volBytes} with any cluster size`, {
    hint: fsType === 'FAT16'
      ? `FAT16 tops out near 4 GiB (2 GiB with 32 KiB clusters). Use --fs fat32, or --partition-size 2G for a FAT16 volume on this card.`
      : `FAT32 needs at least 65525 clusters (about 33 MiB with 512-byte clusters). Use --fs fat16 for a small volume.`,
    details: { fs: fsType, bytes: volumeBytesWanted },
  });
}

/** Shrink a FAT16 volume until its cluster count is at most `hi` (a few passes: alignment moves it). */
function trimFat16(layout: Layout, hi: number, plan: (cluster: number, sectors: number) => Layout): Layout | null {
  let l = layout;
  for (let pass = 0; pass < 4 && l.clusterCount > hi; pass++) {
    l = plan(l.clusterBytes, l.partitionSectors - (l.clusterCount - hi) * l.sectorsPerCluster);
  }
  return l.clusterCount <= hi && l.clusterCount >= FAT16_MIN_CLUSTERS + FAT_TYPE_MARGIN ? l : null;
}

function chooseFs(req: LayoutRequest, volumeBytes: number): FatType {
  const fs = req.fs ?? 'auto';
  if (fs === 'fat16') {
    if (volumeBytes > 4 * 1024 ** 3) {
      throw new UsageError('fat16-too-large', `FAT16 cannot cover ${formatBytes(volumeBytes)}: its limit is 65524 clusters of at most 64 KiB (about 4 GiB, 2 GiB with the usual 32 KiB clusters)`, {
        hint: 'Use --fs fat32 (every SD bootloader that reads FAT16 on large cards reads FAT32), or --partition-size 2G to make a small FAT16 volume on this card.',
        details: { bytes: volumeBytes },
      });
    }
    return 'FAT16';
  }
  if (fs === 'fat32') return 'FAT32';
  const accepts = req.boardFileSystems;
  // SD spec: FAT16 up to 2 GB (SDSC), FAT32 above. A board that only reads one of them wins.
  const sdChoice: FatType = volumeBytes <= SDSC_MAX_BYTES ? 'FAT16' : 'FAT32';
  if (accepts && accepts.length) {
    if (!accepts.includes(sdChoice)) {
      if (accepts.includes('FAT32') && volumeBytes >= 64 * 1024 * 1024) return 'FAT32';
      if (accepts.includes('FAT16') && volumeBytes <= SDSC_MAX_BYTES) return 'FAT16';
    }
  }
  // FAT32 needs 65525 clusters: below ~64 MiB stay on FAT16 whatever the board prefers.
  return sdChoice === 'FAT32' || volumeBytes >= 64 * 1024 * 1024 ? sdChoice : 'FAT16';
}

function tryLayout(fsType: FatType, clusterBytes: number, bu: number, mbr: boolean, deviceSectors: number, partSectorsWanted: number | undefined, sectorSize: number, rootEntries: number, rootSectors: number, minReserved: number): Layout {
  const spc = clusterBytes / sectorSize;
  let partitionStart = mbr ? bu : 0;
  let partitionSectors = partSectorsWanted ?? deviceSectors - partitionStart;
  if (partitionStart + partitionSectors > deviceSectors) partitionSectors = deviceSectors - partitionStart;
  if (partSectorsWanted !== undefined && partitionSectors > bu * 4) {
    // A user-sized partition ends on a BU boundary too, so a later partition would be aligned.
    partitionSectors -= (partitionStart + partitionSectors) % bu;
  }
  let g: Geometry;
  if (fsType === 'FAT16' && mbr) {
    // SD spec for FAT12/16: keep one reserved sector and move the partition start so that
    // partition start + reserved + FATs + root directory is a multiple of BU.
    g = solve(fsType, partitionSectors, spc, sectorSize, rootSectors, minReserved, 0, 1);
    for (let k = 0; k < 8; k++) {
      const sys = g.reserved + 2 * g.fatSectors + rootSectors;
      const dataAbs = Math.ceil((bu + sys) / bu) * bu;
      const start = dataAbs - sys;
      const newSectors = (partSectorsWanted ?? deviceSectors - start) - (partSectorsWanted !== undefined ? 0 : 0);
      const size = Math.min(newSectors, deviceSectors - start);
      const again = solve(fsType, size, spc, sectorSize, rootSectors, minReserved, 0, 1);
      partitionStart = start;
      partitionSectors = size;
      if (again.fatSectors === g.fatSectors) {
        g = again;
        break;
      }
      g = again;
    }
    // If the FAT shrank on the last pass, pad the reserved area so alignment still holds.
    const abs = partitionStart + g.reserved + 2 * g.fatSectors + rootSectors;
    const pad = (bu - (abs % bu)) % bu;
    if (pad) {
      g = { ...g, reserved: g.reserved + pad, dataStart: g.dataStart + pad, clusters: Math.floor((partitionSectors - g.dataStart - pad) / spc) };
    }
  } else {
    g = solve(fsType, partitionSectors, spc, sectorSize, rootSectors, minReserved, partitionStart, bu);
  }
  let partitionType = 0;
  if (mbr) {
    const end = partitionStart + partitionSectors;
    if (fsType === 'FAT32') partitionType = end <= CHS_LIMIT_LBA ? 0x0b : 0x0c;
    else partitionType = partitionSectors < 65536 ? 0x04 : end <= CHS_LIMIT_LBA ? 0x06 : 0x0e;
  }
  return {
    fsType,
    sectorSize,
    cardKind: cardKind(deviceSectors * sectorSize),
    boundaryUnit: bu,
    mbr,
    partitionStart,
    partitionSectors,
    partitionType,
    sectorsPerCluster: spc,
    clusterBytes,
    reservedSectors: g.reserved,
    fatCount: 2,
    sectorsPerFat: g.fatSectors,
    rootEntries,
    rootDirSectors: rootSectors,
    dataStart: g.dataStart,
    clusterCount: g.clusters,
    dataStartAbsolute: partitionStart + g.dataStart,
  };
}

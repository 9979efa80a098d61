import { planLayout, cardKind, type Layout } from '../../fat/layout.js';
import { CHS_LIMIT_LBA } from '../../partition/mbr.js';
import type { CheckRules } from '../check/rules.js';

/**
 * The volume a repair through the MCU writes: small, so that formatting sends little over a
 * serial link (the FATs and root directory are all that is written, and they grow with the
 * cluster count), at the card's first boundary unit, as the SD Association's layout wants.
 * The rest of the card is left unused; `fwcard prepare` in a card reader gives it back.
 *
 * - FAT16 where the board reads it: a 256 MiB volume with 32 KiB clusters (16 KiB when the board
 *   takes no more) has 8,192 (16,384) clusters, 33 (65) sectors per FAT: about 50 (80) KiB written.
 * - FAT32 on a board that reads nothing else: the smallest FAT32 (65,525 clusters, plus the margin
 *   layout.ts keeps from the type limits), whose FATs are 2 × 256 KiB: FAT32 cannot be smaller.
 */
export const REPAIR_FAT16_BYTES = 256 * 1024 * 1024;

/** A range of sectors, [start, start + count). */
export interface SectorRange {
  start: number;
  count: number;
}

/** The card's boundary unit by capacity (SD File System Specification): 4 MiB SDHC, 16 MiB SDXC, 64 KiB SDSC. */
export function cardBoundaryUnit(deviceSectors: number): number {
  const kind = cardKind(deviceSectors * 512);
  return kind === 'SDXC' ? 32768 : kind === 'SDHC' ? 8192 : 128;
}

const overlaps = (a: SectorRange, b: SectorRange) => a.start < b.start + b.count && b.start < a.start + a.count;

/**
 * Plan the repair volume for a card of `deviceSectors` under the board's rules, keeping the
 * sectors it writes before its partition table (its reserved area, FATs and root: from the
 * partition start to the data area) clear of `keep`: the sectors that make the card read as what
 * it holds now (see plan.ts). The volume moves up by one boundary unit at a time until it is clear.
 */
export function planRepairLayout(deviceSectors: number, rules: CheckRules, keep: SectorRange[]): Layout {
  const fat16 = rules.fileSystems.includes('FAT16');
  const maxCluster = rules.maxClusterBytes.value;
  const bu = cardBoundaryUnit(deviceSectors);
  let base: Layout;
  if (fat16) {
    const bytes = Math.min(REPAIR_FAT16_BYTES, (deviceSectors - 4 * bu) * 512);
    // 32 KiB clusters halve the FATs of the full-size volume; a smaller card keeps the SD rules' size.
    const cluster = bytes >= REPAIR_FAT16_BYTES ? { clusterBytes: Math.min(32768, maxCluster) } : {};
    base = planLayout({ deviceSectors, fs: 'fat16', partitionBytes: bytes, ...cluster, maxClusterBytes: maxCluster });
  } else {
    // The fewest clusters FAT32 allows: 4 KiB clusters (or the board's largest, if smaller), and
    // room for 65,525 + margin of them; planLayout settles the exact count.
    const cluster = Math.min(4096, maxCluster);
    // planLayout pads the reserved area so the data area starts on a BU, and ends a sized partition
    // on a BU: up to two BUs of the request are not clusters.
    const clusters = 65525 + 17 + 64;
    const bytes = Math.min(clusters * cluster + 2 * clusters * 4 + 2 * bu * 512 + 1024 * 1024, (deviceSectors - 2 * bu) * 512);
    base = planLayout({ deviceSectors, fs: 'fat32', partitionBytes: bytes, clusterBytes: cluster, maxClusterBytes: maxCluster });
  }
  // planLayout aligns FAT16 to its own small unit; a repair aligns the data area to the card's BU
  // (what the card erases at once), with the partition inside the first BU or later.
  const sys = base.dataStart;
  let dataAbs = Math.max(Math.ceil((bu + sys) / bu) * bu, base.dataStartAbsolute - (base.dataStartAbsolute % bu));
  for (let guard = 0; guard < 1024; guard++) {
    const start = dataAbs - sys;
    const written = { start, count: sys };
    if (start + base.partitionSectors > deviceSectors) break;
    if (!keep.some((k) => overlaps(k, written))) return withStart(base, start, bu);
    dataAbs += bu;
  }
  // Nothing clear (a tiny card full of old structures): keep planLayout's own place if clear.
  if (!keep.some((k) => overlaps(k, { start: base.partitionStart, count: sys }))) return base;
  throw new Error('internal: no place for the repair volume clear of the card\'s current structures');
}

function withStart(l: Layout, start: number, bu: number): Layout {
  const end = start + l.partitionSectors;
  const partitionType = l.fsType === 'FAT32' ? (end <= CHS_LIMIT_LBA ? 0x0b : 0x0c) : l.partitionSectors < 65536 ? 0x04 : end <= CHS_LIMIT_LBA ? 0x06 : 0x0e;
  return { ...l, partitionStart: start, partitionType, dataStartAbsolute: start + l.dataStart, boundaryUnit: bu };
}

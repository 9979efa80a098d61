/**
 * The boot sector (volume boot record) read field by field, trusting nothing. Offsets and rules
 * are from Microsoft's FAT specification ("FAT: General Overview of On-Disk Format"): the FAT
 * type follows from the cluster count alone (< 4085 FAT12, < 65525 FAT16, else FAT32), never
 * from the BS_FilSysType string, which is informational. exFAT and NTFS are recognised by their
 * OEM name so that `check` can say what the card holds.
 *
 * The one boot-sector parser: partition/probe.ts identifies file systems with it, fat/inspect
 * builds its volume facts on it (it lives here, below fat/, so that both can import it).
 */
export type FatType = 'FAT12' | 'FAT16' | 'FAT32';

export interface Fat32Fields {
  /** BPB_ExtFlags: bit 7 set = only one FAT is active (bits 0-3), no mirroring. */
  extFlags: number;
  fsVersion: number;
  rootCluster: number;
  fsInfoSector: number;
  backupBootSector: number;
}

export interface FatBootSector {
  kind: 'fat';
  fatType: FatType;
  oemName: string;
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterBytes: number;
  reservedSectors: number;
  fatCount: number;
  rootEntries: number;
  totalSectors: number;
  sectorsPerFat: number;
  media: number;
  hiddenSectors: number;
  fat32: Fat32Fields | null;
  /** 0x29 extended boot signature present: volume id, label and type string are valid. */
  extendedSignature: boolean;
  volumeId: number | null;
  label: string | null;
  /** BS_FilSysType, e.g. "FAT32   " (trimmed); null without the extended signature. */
  typeString: string | null;
  /**
   * "FAT" at offset 54 or "FAT3" at 82: how FatFs releases up to R0.13 (common in stock
   * bootloaders) recognise a FAT boot sector in check_fs, before looking at the BPB.
   */
  fatFsSignature: boolean;
  /** Windows' "volume dirty" bit in BS_Reserved1 (what fsck.fat calls the dirty bit). */
  dirtyFlag: boolean;
  /** Derived geometry, in volume sectors. */
  rootDirSectors: number;
  /** First sector of the FAT that is read (the active one on FAT32 without mirroring). */
  activeFatStart: number;
  /** First sector of the fixed root directory (FAT12/16). */
  rootDirStart: number;
  dataStart: number;
  clusterCount: number;
  /** Things that are wrong in the BPB itself (empty when it is sound). */
  problems: string[];
}

export interface OtherBootSector {
  kind: 'exFAT' | 'NTFS' | 'empty' | 'unknown';
  /** Cluster size and volume size where the format says (exFAT, NTFS). */
  clusterBytes: number | null;
  totalSectors: number | null;
  clusterCount: number | null;
  bytesPerSector: number | null;
  /** Why it is not a FAT volume, for `unknown`. */
  problems: string[];
}

export type BootSector = FatBootSector | OtherBootSector;

const ascii = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));
const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

export const FAT12_MAX_CLUSTERS = 4084;
export const FAT16_MAX_CLUSTERS = 65524;

export function fatTypeOf(clusterCount: number): FatType {
  return clusterCount <= FAT12_MAX_CLUSTERS ? 'FAT12' : clusterCount <= FAT16_MAX_CLUSTERS ? 'FAT16' : 'FAT32';
}

export function parseBootSector(b: Uint8Array): BootSector {
  const other = (kind: OtherBootSector['kind'], problems: string[] = []): OtherBootSector => ({ kind, clusterBytes: null, totalSectors: null, clusterCount: null, bytesPerSector: null, problems });
  if (b.byteLength < 512) return other('unknown', ['boot sector shorter than 512 bytes']);
  if (b.every((x) => x === 0)) return other('empty');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const oem = ascii(b, 3, 8);
  if (oem === 'EXFAT   ') {
    // exFAT boot sector: BytesPerSectorShift at 108, SectorsPerClusterShift at 109.
    const bps = 2 ** b[108]!;
    return { kind: 'exFAT', bytesPerSector: bps, clusterBytes: bps * 2 ** b[109]!, totalSectors: Number(dv.getBigUint64(72, true)), clusterCount: dv.getUint32(92, true), problems: [] };
  }
  if (oem === 'NTFS    ') {
    const bps = dv.getUint16(11, true);
    const spc = b[13]!;
    // NTFS encodes clusters above 64 KiB sectors-per-cluster as a negative shift.
    const clusterSectors = spc > 0x80 ? 2 ** (256 - spc) : spc;
    return { kind: 'NTFS', bytesPerSector: bps, clusterBytes: bps * clusterSectors, totalSectors: Number(dv.getBigUint64(40, true)), clusterCount: null, problems: [] };
  }
  const problems: string[] = [];
  if (b[510] !== 0x55 || b[511] !== 0xaa) problems.push('no 0x55AA signature at the end of the boot sector');
  if (!(b[0] === 0xeb && b[2] === 0x90) && b[0] !== 0xe9) problems.push(`jump instruction ${b[0]!.toString(16)} is neither EB xx 90 nor E9 xx xx`);
  const bps = dv.getUint16(11, true);
  const spc = b[13]!;
  const rsv = dv.getUint16(14, true);
  const nfats = b[16]!;
  const rootEntries = dv.getUint16(17, true);
  const tot16 = dv.getUint16(19, true);
  const media = b[21]!;
  const fat16 = dv.getUint16(22, true);
  const hidden = dv.getUint32(28, true);
  const tot32 = dv.getUint32(32, true);
  const fat32sz = dv.getUint32(36, true);
  if (![512, 1024, 2048, 4096].includes(bps)) problems.push(`bytes per sector ${bps} is not 512, 1024, 2048 or 4096`);
  if (!isPow2(spc) || spc > 128) problems.push(`sectors per cluster ${spc} is not a power of two up to 128`);
  if (rsv === 0) problems.push('reserved sector count is 0');
  if (nfats === 0) problems.push('number of FATs is 0');
  const sectorsPerFat = fat16 || fat32sz;
  const totalSectors = tot16 || tot32;
  if (sectorsPerFat === 0) problems.push('FAT size is 0');
  if (totalSectors === 0) problems.push('total sector count is 0');
  // Without a sane BPB there is no FAT volume to speak of (mirrors what FatFs' check_fs does).
  const fatal = problems.filter((p) => !p.startsWith('jump'));
  if (fatal.length) return other('unknown', problems);

  const rootDirSectors = Math.ceil((rootEntries * 32) / bps);
  const dataStart = rsv + nfats * sectorsPerFat + rootDirSectors;
  if (dataStart >= totalSectors) return other('unknown', [`the data area starts at sector ${dataStart}, past the volume's ${totalSectors} sectors`]);
  const clusterCount = Math.floor((totalSectors - dataStart) / spc);
  const fatType = fatTypeOf(clusterCount);
  const isFat32 = fatType === 'FAT32';
  let fat32: Fat32Fields | null = null;
  let activeFat = 0;
  if (isFat32) {
    fat32 = {
      extFlags: dv.getUint16(40, true),
      fsVersion: dv.getUint16(42, true),
      rootCluster: dv.getUint32(44, true),
      fsInfoSector: dv.getUint16(48, true),
      backupBootSector: dv.getUint16(50, true),
    };
    if (fat16 !== 0) problems.push('FAT32 volume with a nonzero 16-bit FAT size');
    if (rootEntries !== 0) problems.push(`FAT32 volume with ${rootEntries} fixed root entries (must be 0)`);
    if (fat32.fsVersion !== 0) problems.push(`FAT32 version ${fat32.fsVersion >> 8}.${fat32.fsVersion & 0xff} (readers expect 0.0)`);
    if (fat32.rootCluster < 2 || fat32.rootCluster > clusterCount + 1) problems.push(`root directory cluster ${fat32.rootCluster} is outside the volume`);
    if (fat32.extFlags & 0x80) activeFat = fat32.extFlags & 0x0f;
  } else if (rootEntries === 0) {
    problems.push(`${fatType} volume with no root directory entries`);
  }
  if (nfats > 2) problems.push(`${nfats} FATs (readers expect 1 or 2)`);
  if (activeFat >= nfats) problems.push(`active FAT ${activeFat} does not exist`);
  // The FAT must have an entry for every cluster (plus the two reserved entries).
  const entryBits = fatType === 'FAT12' ? 12 : fatType === 'FAT16' ? 16 : 32;
  const fatEntries = Math.floor((sectorsPerFat * bps * 8) / entryBits);
  if (fatEntries < clusterCount + 2) problems.push(`the FAT holds ${fatEntries} entries, fewer than the ${clusterCount + 2} the volume needs`);
  const extOff = isFat32 ? 64 : 36;
  const extendedSignature = b[extOff + 2] === 0x29;
  return {
    kind: 'fat',
    fatType,
    oemName: oem,
    bytesPerSector: bps,
    sectorsPerCluster: spc,
    clusterBytes: bps * spc,
    reservedSectors: rsv,
    fatCount: nfats,
    rootEntries,
    totalSectors,
    sectorsPerFat,
    media,
    hiddenSectors: hidden,
    fat32,
    extendedSignature,
    volumeId: extendedSignature ? dv.getUint32(extOff + 3, true) : null,
    label: extendedSignature ? ascii(b, extOff + 7, 11).trimEnd() : null,
    typeString: extendedSignature ? ascii(b, extOff + 18, 8).trimEnd() : null,
    fatFsSignature: ascii(b, 54, 3) === 'FAT' || ascii(b, 82, 4) === 'FAT3',
    dirtyFlag: (b[extOff + 1]! & 0x01) !== 0,
    rootDirSectors,
    activeFatStart: rsv + Math.min(activeFat, Math.max(0, nfats - 1)) * sectorsPerFat,
    rootDirStart: rsv + nfats * sectorsPerFat,
    dataStart,
    clusterCount,
    problems,
  };
}

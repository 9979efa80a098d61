/**
 * Master Boot Record: parse and build. Layout per the de-facto IBM PC standard that the SD
 * Association's File System Specification also uses: four 16-byte entries at offset 446 and
 * the 0x55AA signature at 510.
 */
export const MBR_SIZE = 512;

export interface MbrEntry {
  /** 0-3: position in the table. */
  index: number;
  bootable: boolean;
  /** Partition type byte (0x0B/0x0C FAT32, 0x04/0x06/0x0E FAT16, 0x07 NTFS/exFAT, 0xEE GPT protective …). */
  type: number;
  startLba: number;
  sectorCount: number;
}

export interface Mbr {
  /** The 0x55AA signature is present. */
  signature: boolean;
  diskSignature: number;
  /** Non-empty entries only (type != 0 and a size). */
  entries: MbrEntry[];
}

export function parseMbr(sector: Uint8Array): Mbr {
  const dv = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const signature = sector.byteLength >= 512 && sector[510] === 0x55 && sector[511] === 0xaa;
  const entries: MbrEntry[] = [];
  if (signature) {
    for (let i = 0; i < 4; i++) {
      const o = 446 + i * 16;
      const type = sector[o + 4]!;
      const startLba = dv.getUint32(o + 8, true);
      const sectorCount = dv.getUint32(o + 12, true);
      if (type !== 0 && sectorCount !== 0) {
        entries.push({ index: i, bootable: sector[o] === 0x80, type, startLba, sectorCount });
      }
    }
  }
  return { signature, diskSignature: signature ? dv.getUint32(440, true) : 0, entries };
}

/** The largest LBA a CHS address can express with the usual 255-head, 63-sector geometry. */
export const CHS_LIMIT_LBA = 1024 * 255 * 63;

/** CHS bytes for an LBA (geometry 255/63); past the CHS limit, the conventional 1023/254/63. */
export function lbaToChs(lba: number): [number, number, number] {
  if (lba >= CHS_LIMIT_LBA) return [0xfe, 0xff, 0xff];
  const cyl = Math.floor(lba / (255 * 63));
  const head = Math.floor(lba / 63) % 255;
  const sec = (lba % 63) + 1;
  return [head, ((cyl >> 2) & 0xc0) | sec, cyl & 0xff];
}

export interface BuildMbrOptions {
  entries: { type: number; startLba: number; sectorCount: number; bootable?: boolean }[];
  diskSignature: number;
}

export function buildMbr(opts: BuildMbrOptions): Uint8Array {
  if (opts.entries.length > 4) throw new Error('internal: an MBR holds at most four primary partitions');
  const sector = new Uint8Array(MBR_SIZE);
  const dv = new DataView(sector.buffer);
  dv.setUint32(440, opts.diskSignature >>> 0, true);
  opts.entries.forEach((e, i) => {
    const o = 446 + i * 16;
    sector[o] = e.bootable ? 0x80 : 0x00;
    sector.set(lbaToChs(e.startLba), o + 1);
    sector[o + 4] = e.type;
    sector.set(lbaToChs(e.startLba + e.sectorCount - 1), o + 5);
    dv.setUint32(o + 8, e.startLba, true);
    dv.setUint32(o + 12, e.sectorCount, true);
  });
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

export const PARTITION_TYPE_NAMES: Record<number, string> = {
  0x01: 'FAT12',
  0x04: 'FAT16 (<32 MiB)',
  0x05: 'extended',
  0x06: 'FAT16',
  0x07: 'NTFS/exFAT',
  0x0b: 'FAT32 (CHS)',
  0x0c: 'FAT32 (LBA)',
  0x0e: 'FAT16 (LBA)',
  0x0f: 'extended (LBA)',
  0x83: 'Linux',
  0x82: 'Linux swap',
  0xee: 'GPT protective',
  0xef: 'EFI system',
};

export function partitionTypeName(type: number): string {
  return PARTITION_TYPE_NAMES[type] ?? `type 0x${type.toString(16).padStart(2, '0')}`;
}

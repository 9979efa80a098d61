/**
 * File-system and volume signatures other than FAT, read from the few bytes where each format
 * keeps its magic. Pure functions over buffers; content.ts decides which sectors to read. Offsets
 * follow the formats' own headers, as util-linux's libblkid probes them:
 *  - ext2/3/4: superblock at byte 1024, s_magic 0xEF53 at its offset 56 (Linux fs/ext4/ext4.h);
 *  - swap: "SWAPSPACE2"/"SWAP-SPACE" in the last 10 bytes of the first page (include/linux/swap.h);
 *  - LUKS: "LUKS\xba\xbe" at 0, version at 6 (cryptsetup's LUKS1 and LUKS2 on-disk formats);
 *  - XFS: "XFSB" at 0 of the superblock (xfs_format.h); btrfs: "_BHRfS_M" at 0x40 of the
 *    superblock at 64 KiB (btrfs on-disk format); LVM2: "LABELONE" + "LVM2 001" in one of
 *    sectors 0-3 (lib/label/label.h); ISO 9660: "CD001" at byte 32769 (ECMA-119 §8.4).
 */

/** What a signature tells about a volume. */
export interface Signature {
  fs: 'ext2' | 'ext3' | 'ext4' | 'swap' | 'LUKS' | 'btrfs' | 'xfs' | 'LVM2' | 'ISO9660';
  label: string | null;
  /** A word more: "LUKS2", "journal", "page size 4 KiB". */
  detail: string | null;
  /** Size and used space as the file system records them (null when it does not say cheaply). */
  sizeBytes: number | null;
  usedBytes: number | null;
}

const ascii = (b: Uint8Array, o: number, n: number): string => String.fromCharCode(...b.subarray(o, o + n));
/** A NUL-padded (or space-padded) text field; null when it is empty. */
export function textField(b: Uint8Array, o: number, n: number, encoding: 'utf-8' | 'latin1' = 'utf-8'): string | null {
  const raw = b.subarray(o, o + n);
  const end = raw.indexOf(0);
  const s = new TextDecoder(encoding).decode(end < 0 ? raw : raw.subarray(0, end)).trim();
  return s === '' ? null : s;
}
const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** ext2/3/4 from the 1024-byte superblock (the bytes at 1024…2047 of the volume). */
export function extSuperblock(sb: Uint8Array): Signature | null {
  if (sb.byteLength < 1024) return null;
  const dv = view(sb);
  if (dv.getUint16(56, true) !== 0xef53) return null;
  const compat = dv.getUint32(92, true);
  const incompat = dv.getUint32(96, true);
  const roCompat = dv.getUint32(100, true);
  // As libblkid: ext4 uses features beyond ext3's (filetype, recover, meta_bg; sparse_super,
  // large_file, btree_dir); ext3 is ext2 with a journal (has_journal, compat 0x4).
  const ext4 = (incompat & ~0x16) !== 0 || (roCompat & ~0x7) !== 0;
  const fs = ext4 ? 'ext4' : compat & 0x4 ? 'ext3' : 'ext2';
  const blockSize = 1024 * 2 ** Math.min(dv.getUint32(24, true), 6);
  const wide = (incompat & 0x80) !== 0; // 64bit: the high halves are valid
  const blocks = dv.getUint32(4, true) + (wide ? dv.getUint32(0x150, true) * 2 ** 32 : 0);
  const free = dv.getUint32(12, true) + (wide ? dv.getUint32(0x158, true) * 2 ** 32 : 0);
  return { fs, label: textField(sb, 120, 16), detail: null, sizeBytes: blocks * blockSize, usedBytes: free <= blocks ? (blocks - free) * blockSize : null };
}

/** Linux swap from its first page (`pageSize` bytes). */
export function swapHeader(page: Uint8Array, pageSize: number): Signature | null {
  if (page.byteLength < pageSize) return null;
  const magic = ascii(page, pageSize - 10, 10);
  if (magic !== 'SWAPSPACE2' && magic !== 'SWAP-SPACE') return null;
  const dv = view(page);
  // v1 header after 1024 boot bytes: version, last_page, nr_badpages, uuid[16], volume_name[16].
  const v1 = magic === 'SWAPSPACE2';
  const lastPage = v1 ? dv.getUint32(1028, true) : 0;
  return {
    fs: 'swap',
    label: v1 ? textField(page, 1052, 16) : null,
    detail: `${v1 ? 'v1' : 'v0'}, ${pageSize / 1024} KiB pages`,
    sizeBytes: v1 && lastPage ? (lastPage + 1) * pageSize : null,
    usedBytes: null,
  };
}

/** LUKS1/LUKS2 from the first bytes of the volume. */
export function luksHeader(b: Uint8Array): Signature | null {
  if (b.byteLength < 512 || ascii(b, 0, 6) !== 'LUKS\xba\xbe') return null;
  const version = view(b).getUint16(6, false);
  // LUKS2 keeps a label at offset 24 (48 bytes); LUKS1 has none.
  return { fs: 'LUKS', label: version === 2 ? textField(b, 24, 48) : null, detail: `LUKS${version}, encrypted`, sizeBytes: null, usedBytes: null };
}

/** XFS from its superblock at byte 0. */
export function xfsSuperblock(b: Uint8Array): Signature | null {
  if (b.byteLength < 512 || ascii(b, 0, 4) !== 'XFSB') return null;
  const dv = view(b);
  const blockSize = dv.getUint32(4, false);
  const blocks = Number(dv.getBigUint64(8, false));
  const free = Number(dv.getBigUint64(144, false));
  const ok = blockSize >= 512 && blockSize <= 65536 && free <= blocks;
  return { fs: 'xfs', label: textField(b, 108, 12), detail: null, sizeBytes: ok ? blocks * blockSize : null, usedBytes: ok ? (blocks - free) * blockSize : null };
}

/** btrfs from the 4 KiB superblock at 64 KiB. */
export function btrfsSuperblock(b: Uint8Array): Signature | null {
  if (b.byteLength < 0x22b + 256 || ascii(b, 0x40, 8) !== '_BHRfS_M') return null;
  const dv = view(b);
  const total = Number(dv.getBigUint64(0x70, true));
  const used = Number(dv.getBigUint64(0x78, true));
  return { fs: 'btrfs', label: textField(b, 0x12b, 256), detail: null, sizeBytes: total || null, usedBytes: used <= total ? used : null };
}

/** An LVM2 physical volume: its label sits at the start of one of sectors 0-3 (`first4` = those 2048 bytes). */
export function lvmLabel(first4: Uint8Array): Signature | null {
  for (let s = 0; s < 4 && (s + 1) * 512 <= first4.byteLength; s++) {
    const o = s * 512;
    if (ascii(first4, o, 8) === 'LABELONE' && ascii(first4, o + 24, 8) === 'LVM2 001') {
      // pv_header follows the label header at its offset field: 32-character PV UUID, device size.
      const dv = view(first4);
      const at = o + dv.getUint32(o + 20, true);
      const size = at + 40 <= first4.byteLength ? Number(dv.getBigUint64(at + 32, true)) : 0;
      return { fs: 'LVM2', label: null, detail: 'physical volume', sizeBytes: size || null, usedBytes: null };
    }
  }
  return null;
}

/** ISO 9660 from the volume descriptor at byte 32768 (2048 bytes). */
export function isoVolumeDescriptor(b: Uint8Array): Signature | null {
  if (b.byteLength < 2048 || ascii(b, 1, 5) !== 'CD001') return null;
  const dv = view(b);
  // Primary volume descriptor (type 1): volume identifier at 40, space size (both-endian) at 80.
  const primary = b[0] === 1;
  const blocks = primary ? dv.getUint32(80, true) : 0;
  const blockSize = primary ? dv.getUint16(128, true) : 0;
  return { fs: 'ISO9660', label: primary ? textField(b, 40, 32, 'latin1') : null, detail: null, sizeBytes: blocks && blockSize ? blocks * blockSize : null, usedBytes: null };
}

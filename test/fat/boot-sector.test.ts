import { describe, expect, it } from 'vitest';
import { buildBootSector } from '../../src/fat/format.js';
import { planLayout } from '../../src/fat/layout.js';
import { parseBootSector } from '../../src/partition/boot-sector.js';
import { detectFileSystem } from '../../src/partition/probe.js';

describe('one boot-sector parser for probe and inspect', () => {
  it('probe names what parseBootSector finds: FAT16, FAT32, exFAT, NTFS, empty, no signature', () => {
    for (const [fs, bytes] of [['fat16', 1024 ** 3], ['fat32', 8 * 1024 ** 3]] as const) {
      const layout = planLayout({ deviceSectors: bytes / 512, fs });
      const boot = buildBootSector(layout, 'CARD', 0x1234);
      const bs = parseBootSector(boot);
      expect(bs.kind).toBe('fat');
      expect(detectFileSystem(boot)).toEqual({ fs: layout.fsType, label: 'CARD' });
      const unsigned = boot.slice();
      unsigned[511] = 0;
      expect(detectFileSystem(unsigned)).toEqual({ fs: 'unknown', label: null });
    }
    const other = (oem: string) => {
      const b = new Uint8Array(512);
      b.set(Buffer.from(oem), 3);
      return b;
    };
    expect(detectFileSystem(other('EXFAT   ')).fs).toBe('exFAT');
    expect(detectFileSystem(other('NTFS    ')).fs).toBe('NTFS');
    expect(detectFileSystem(new Uint8Array(512))).toEqual({ fs: 'empty', label: null });
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planLayout, cardKind, SDHC_MAX_BYTES } from '../../src/fat/layout.js';
import { buildMbr, parseMbr, lbaToChs } from '../../src/partition/mbr.js';
import { parseSize } from '../../src/util/size.js';

const GiB = 1024 ** 3;

describe('SD-spec layout planner', () => {
  it('uses the SD File System Specification parameters by capacity', () => {
    const sdsc = planLayout({ deviceSectors: (1 * GiB) / 512 });
    expect(sdsc).toMatchObject({ fsType: 'FAT16', cardKind: 'SDSC', boundaryUnit: 128, clusterBytes: 16384, reservedSectors: 1 });
    const sdhc = planLayout({ deviceSectors: (16 * GiB) / 512 });
    expect(sdhc).toMatchObject({ fsType: 'FAT32', cardKind: 'SDHC', boundaryUnit: 8192, partitionStart: 8192, clusterBytes: 32768 });
    const sdxc = planLayout({ deviceSectors: (64 * GiB) / 512 });
    expect(sdxc).toMatchObject({ fsType: 'FAT32', cardKind: 'SDXC', boundaryUnit: 32768, partitionStart: 32768 });
    expect(cardKind(SDHC_MAX_BYTES)).toBe('SDHC');
    expect(cardKind(SDHC_MAX_BYTES + 512)).toBe('SDXC');
  });

  it('keeps every layout consistent: FAT big enough, data area aligned, cluster count in range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8 * 1024 * 1024, max: 2 * 1024 * GiB - 1 }),
        fc.constantFrom<'auto' | 'fat16' | 'fat32'>('auto', 'fat16', 'fat32'),
        fc.boolean(),
        (bytes, fs, mbr) => {
          let l;
          try {
            l = planLayout({ deviceSectors: Math.floor(bytes / 512), fs, mbr });
          } catch (e: any) {
            // Impossible requests are typed errors with hints, never anything else.
            expect(e.code).toMatch(/fat16-too-large|impossible-layout|too-small/);
            expect(e.hint).toBeTruthy();
            return;
          }
          const entry = l.fsType === 'FAT32' ? 4 : 2;
          expect(l.sectorsPerFat * 512).toBeGreaterThanOrEqual((l.clusterCount + 2) * entry);
          expect(l.dataStartAbsolute % l.boundaryUnit).toBe(0);
          expect(l.partitionStart + l.partitionSectors).toBeLessThanOrEqual(Math.floor(bytes / 512));
          expect(l.partitionStart + l.dataStart + l.clusterCount * l.sectorsPerCluster).toBeLessThanOrEqual(l.partitionStart + l.partitionSectors);
          if (l.fsType === 'FAT16') expect(l.clusterCount).toBeGreaterThanOrEqual(4085), expect(l.clusterCount).toBeLessThanOrEqual(65524);
          else expect(l.clusterCount).toBeGreaterThanOrEqual(65525);
          expect(l.clusterBytes).toBeLessThanOrEqual(32768);
          if (!mbr) expect(l.partitionStart).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects impossible combinations with the fix in the hint', () => {
    expect(() => planLayout({ deviceSectors: (64 * GiB) / 512, fs: 'fat16' })).toThrow(/FAT16 cannot cover/);
    expect(() => planLayout({ deviceSectors: (8 * GiB) / 512, partitionBytes: 16 * GiB })).toThrow(/larger than the card/);
    expect(() => planLayout({ deviceSectors: (3 * 1024 ** 4) / 512 })).toThrow(/more than an MBR can address/);
    expect(() => planLayout({ deviceSectors: (1 * GiB) / 512, fs: 'fat32', clusterBytes: 65536 })).toThrow(/FAT32 needs 65525/);
    expect(() => planLayout({ deviceSectors: 2048 })).toThrow(/smaller than the smallest/);
  });

  it('honours a board limit on cluster size', () => {
    const l = planLayout({ deviceSectors: (16 * GiB) / 512, maxClusterBytes: 4096 });
    expect(l.clusterBytes).toBe(4096);
    expect(() => planLayout({ deviceSectors: (16 * GiB) / 512, maxClusterBytes: 4096, clusterBytes: 32768 })).toThrow(/larger than this board/);
  });
});

describe('MBR', () => {
  it('round-trips entries and computes CHS', () => {
    const s = buildMbr({ diskSignature: 0x12345678, entries: [{ type: 0x0c, startLba: 8192, sectorCount: 1000000 }] });
    const m = parseMbr(s);
    expect(m.signature).toBe(true);
    expect(m.diskSignature).toBe(0x12345678);
    expect(m.entries).toEqual([{ index: 0, bootable: false, type: 0x0c, startLba: 8192, sectorCount: 1000000 }]);
    expect(lbaToChs(0)).toEqual([0, 1, 0]);
    expect(lbaToChs(63)).toEqual([1, 1, 0]);
    expect(lbaToChs(1024 * 255 * 63)).toEqual([0xfe, 0xff, 0xff]);
    expect(parseMbr(new Uint8Array(512)).signature).toBe(false);
  });
});

describe('sizes', () => {
  it('parses binary and decimal units', () => {
    expect(parseSize('8G')).toBe(8 * GiB);
    expect(parseSize('32GB')).toBe(32e9);
    expect(parseSize('512M')).toBe(512 * 1024 * 1024);
    expect(parseSize('4GiB')).toBe(4 * GiB);
    expect(() => parseSize('8 gigs')).toThrow(/cannot read/);
    expect(() => parseSize('0')).toThrow(/out of range/);
  });
});

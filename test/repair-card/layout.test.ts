import { describe, expect, it } from 'vitest';
import { rulesFor } from '../../src/flows/check/rules.js';
import { loadCatalog } from '../../src/boards/catalog.js';
import { planRepairLayout } from '../../src/flows/repair-card/layout.js';
import { repairWrites, writeVolume } from '../../src/flows/repair-card/writes.js';

const GiB = 2 * 1024 * 1024; // sectors
const base = rulesFor(loadCatalog().get('btt-skr-v1.3'));

describe('the repair volume', () => {
  it('FAT16 where the board reads it: 256 MiB, data on the card\'s boundary unit, clear of what must be kept', () => {
    for (const [sectors, bu] of [[8 * GiB, 8192], [64 * GiB, 32768]] as const) {
      const keep = [{ start: 0, count: 1 }, { start: bu, count: 24 }, { start: 2 * bu - 40, count: 24 }];
      const l = planRepairLayout(sectors, base, keep);
      expect(l.fsType).toBe('FAT16');
      expect(l.partitionSectors * 512).toBe(256 * 1024 * 1024);
      expect(l.dataStartAbsolute % bu).toBe(0);
      for (const k of keep) expect(k.start + k.count <= l.partitionStart || k.start >= l.dataStartAbsolute).toBe(true);
      const w = repairWrites(l, { label: 'FIRMWARE', volumeId: 1, now: new Date(), cleanup: [] });
      expect(w.at(-1)!.lba).toBe(0);
      expect(writeVolume(w).bytes).toBeLessThan(60 * 1024);
    }
  });

  it('a board that reads only FAT32 gets the smallest FAT32 (65,525 clusters and the margin): 2 × 256 KiB of FAT', () => {
    const rules = { ...base, fileSystems: ['FAT32' as const] };
    const l = planRepairLayout(64 * GiB, rules, [{ start: 0, count: 1 }]);
    expect(l.fsType).toBe('FAT32');
    expect(l.clusterCount).toBeGreaterThanOrEqual(65525 + 17);
    expect(l.clusterCount).toBeLessThan(70000);
    const w = repairWrites(l, { label: 'FIRMWARE', volumeId: 1, now: new Date(), cleanup: [] });
    expect(writeVolume(w).bytes).toBeLessThan(600 * 1024);
    // Backup boot sector and FSInfo before the boot sector, the MBR last.
    const order = w.filter((x) => x.data).map((x) => x.what);
    expect(order.indexOf('backup boot sector')).toBeLessThan(order.indexOf('boot sector'));
    expect(order.at(-1)).toMatch(/MBR/);
  });
});

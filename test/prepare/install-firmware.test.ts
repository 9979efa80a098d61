import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadCatalog } from '../../src/boards/catalog.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { PartitionView } from '../../src/disk/partition-view.js';
import type { FatFileSystem } from '../../src/fat/file-system.js';
import { writeFatVolume } from '../../src/fat/format.js';
import { planLayout } from '../../src/fat/layout.js';
import { LocalFatVolume } from '../../src/fat/local-volume.js';
import { RemoteFatVolume } from '../../src/fat/remote-volume.js';
import { cardFileName, needsUniqueName, planCardTarget } from '../../src/flows/card-name.js';
import { installFirmware } from '../../src/flows/install-firmware.js';
import { fsckFat, mcopyOut, mdir, removeDir, tempDir } from '../helpers/judges.js';

const dir = tempDir();
afterAll(() => removeDir(dir));
const catalog = loadCatalog();
const NOW = new Date('2026-12-02T08:00:00Z');

/** A fresh 64 MiB FAT16 card image; returns its path and the volume's place. */
function freshImage(name: string) {
  const path = join(dir, name);
  const dev = openImageFile(path, { size: 64 * 1024 * 1024 });
  const layout = planLayout({ deviceSectors: dev.sectorCount, fs: 'fat16' });
  writeFatVolume(dev, layout, { knownZero: true });
  dev.flushSync();
  return { path, dev, start: layout.partitionStart, sectors: layout.partitionSectors };
}

const pattern = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed + 11) & 255);

const kinds: [string, (view: PartitionView) => Promise<FatFileSystem>][] = [
  ['LocalFatVolume', (v) => LocalFatVolume.mount(v)],
  ['RemoteFatVolume', (v) => RemoteFatVolume.mount(v)],
];

describe.each(kinds)('installFirmware over %s', (kind, mount) => {
  it('a unique-name board: new name, old *.bin removed, other files kept; fsck.fat and mtools agree', async () => {
    const board = catalog.get('creality-v4.2.2');
    const card = freshImage(`${kind}-unique.img`);
    const view = new PartitionView(card.dev, card.start, card.sectors);
    const vol = await mount(view);
    const oldName = cardFileName(board, new Date(NOW.getTime() - 3600_000));
    await vol.writeFile(`/${oldName}`, pattern(5000, 3));
    await vol.writeFile('/notes.txt', pattern(100, 5));
    await vol.writeFile('/FWCARD.TMP', pattern(700, 9)); // left by an earlier run
    const existing = (await vol.list('/')).filter((e) => !e.isDir).map((e) => e.name);
    const target = planCardTarget(board, { existing, now: NOW });
    expect(target.removes).toEqual([`/${oldName}`]);
    const data = pattern(70_000, 7);
    const reads: number[] = [];
    const r = await installFirmware({ volume: vol, data, target, readBack: async (p, bytes) => (reads.push(bytes), vol.readFile(p)) });
    await vol.unmount();
    await card.dev.close();
    expect(reads).toEqual([70_000]);
    expect(r.removed).toEqual([`/${oldName}`]);
    expect(r.path).toBe(target.path);
    const off = card.start * 512;
    const listing = mdir(card.path, off);
    expect(listing).not.toMatch(/FWCARD\s+TMP/i);
    expect(listing).not.toMatch(new RegExp(oldName.slice(0, 8), 'i'));
    expect(listing).toMatch(/notes\s+txt/i);
    expect(mcopyOut(card.path, off, target.path, dir).equals(Buffer.from(data))).toBe(true);
    expect(fsckFat(card.path, off, card.sectors * 512).status).toBe(0);
  });

  it('a folder board replaces the file at its fixed name; a read-back that differs leaves the old file and no FWCARD.TMP', async () => {
    const board = catalog.all().find((b) => b.folder.value && !needsUniqueName(b) && !b.firmwareName.value.includes('*'))!;
    const card = freshImage(`${kind}-folder.img`);
    const vol = await mount(new PartitionView(card.dev, card.start, card.sectors));
    const target = planCardTarget(board, { existing: [], now: NOW });
    expect(target.folder).not.toBe('/');
    const first = pattern(10_000, 13);
    await installFirmware({ volume: vol, data: first, target });
    const bad = installFirmware({
      volume: vol, data: pattern(20_000, 17), target,
      readBack: async (p) => { const b = await vol.readFile(p); b[100] ^= 1; return b; },
      mismatchError: (m) => Object.assign(new Error(`mismatch ${m.path}`), { code: 'test-mismatch', m }),
    });
    await expect(bad).rejects.toMatchObject({ code: 'test-mismatch' });
    await vol.unmount();
    await card.dev.close();
    const off = card.start * 512;
    expect(mdir(card.path, off, target.folder)).not.toMatch(/FWCARD\s+TMP/i);
    expect(mcopyOut(card.path, off, target.path, dir).equals(Buffer.from(first))).toBe(true);
    expect(fsckFat(card.path, off, card.sectors * 512).status).toBe(0);
  });
});

describe('card names', () => {
  it("Klipper's requires_unique_fw_name alone makes a board unique-name, for both commands", () => {
    const base = catalog.get('btt-skr-v1.3');
    const board = { ...base, klipper: { ...base.klipper!, requiresUniqueFwName: true } };
    expect(needsUniqueName(board)).toBe(true);
    for (const follow of ['catalog', 'klipper'] as const) {
      const t = planCardTarget(board, { existing: ['firmware.bin', 'FIRMWARE.CUR', 'old.BIN'], now: NOW, follow });
      expect(t.path).toMatch(/^\/fw[0-9a-z]{6}\.bin$/);
      expect(t.removes).toEqual(['/firmware.bin', '/old.BIN']);
    }
  });

  it("a board that is not unique-name: the catalog's name for prepare, Klipper's for flash-sdcard; nothing removed", () => {
    const board = catalog.get('monster8');
    expect(planCardTarget(board, { existing: ['x.bin'], now: NOW }).path).toBe('/mks_monster8.bin');
    expect(planCardTarget(board, { existing: ['x.bin'], now: NOW, follow: 'klipper' })).toEqual({ folder: '/', path: '/firmware.bin', removes: [] });
  });
});

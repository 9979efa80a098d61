import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { probeCard, type CardProbe } from '../../src/partition/probe.js';
import { applyRepair, resumeRepair } from '../../src/flows/repair-card/apply.js';
import { planRepair, type RepairPlan } from '../../src/flows/repair-card/plan.js';
import { fsckFat, mdir, readRegion, removeDir, tempDir } from '../helpers/judges.js';
import { Cut, FaultDevice } from '../helpers/fault-device.js';
import { makeForeignCard, type CardKind } from './cards.js';

// The repair over a plain image file, cut off after every one of its writes (whole, and with the
// cut write landing half-way), judged by our probe and by fsck.fat/mtools: every intermediate
// card reads as what it was or as the complete new volume, and a re-run with the host's record
// completes it to the very bytes of an uninterrupted repair.
const dir = tempDir();
const board = loadCatalog().get('btt-skr-v1.3');
const NOW = new Date('2026-12-02T10:00:00Z');
const VOLUME_ID = 0x1234abcd;
beforeAll(() => {
  process.env.FWCARD_STATE_DIR = join(dir, 'state');
});
afterAll(() => removeDir(dir));

/** Copy a sparse image as sparse (a plain copy writes every zero). */
const copyFileSync = (a: string, b: string) => execFileSync('cp', ['--sparse=always', a, b]);

const sha = (p: string) => execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]!;

async function withImage<T>(path: string, work: (dev: ReturnType<typeof openImageFile>) => Promise<T>): Promise<T> {
  const dev = openImageFile(path);
  try {
    return await work(dev);
  } finally {
    await dev.close();
  }
}

const fsOf = (p: CardProbe) => (p.table === 'none' ? p.superfloppyFs : p.partitions[0]?.fs ?? null);

/** The card reads as its old self: same table, same first volume and file system. */
function readsOld(now: CardProbe, old: CardProbe): boolean {
  return now.table === old.table && fsOf(now) === fsOf(old) && (old.table === 'none' || now.partitions[0]?.start === old.partitions[0]?.start);
}

/** The card reads as the new volume, and fsck.fat accepts it. */
function readsNew(img: string, now: CardProbe, plan: RepairPlan): { ok: boolean; why: string } {
  const l = plan.layout!;
  const p = now.partitions[0];
  if (now.table !== 'mbr' || !p || p.start !== l.partitionStart || p.fs !== l.fsType) return { ok: false, why: `probe: ${now.table} ${p?.start} ${p?.fs}` };
  const f = fsckFat(img, l.partitionStart * 512, l.partitionSectors * 512);
  return { ok: f.ok, why: f.output };
}

const KINDS: CardKind[] = ['exfat-mbr', 'exfat-whole', 'ntfs-whole', 'gpt', 'gpt-exfat'];

describe('repair of an unreadable card, cut off at every write', () => {
  for (const kind of KINDS) {
    it(`${kind}: every cut leaves old or new, and a re-run completes it`, async () => {
      const orig = join(dir, `${kind}.img`);
      makeForeignCard(orig, kind, 128);
      const old = await withImage(orig, (d) => probeCard(d));
      const plan = await withImage(orig, (d) => planRepair(d, board, { now: NOW, volumeId: VOLUME_ID }));
      expect(plan.needed, JSON.stringify(plan.reasons)).toBe(true);
      const l = plan.layout!;
      expect(l.fsType).toBe('FAT16');
      expect(l.dataStartAbsolute % l.boundaryUnit).toBe(0);
      // Uninterrupted, for the reference bytes.
      const whole = join(dir, `${kind}-whole.img`);
      copyFileSync(orig, whole);
      const record = join(dir, `${kind}.json`);
      await withImage(whole, (d) => applyRepair(d, plan, { identity: { card: kind, sectors: d.sectorCount }, recordPath: record }));
      expect(existsSync(record)).toBe(false);
      const done = await withImage(whole, (d) => probeCard(d));
      expect(readsNew(whole, done, plan).ok).toBe(true);
      expect(mdir(whole, l.partitionStart * 512)).toMatch(/FIRMWARE/);
      // No GPT left for PCs to find.
      expect(readRegion(whole, 512, 8).toString('latin1')).not.toBe('EFI PART');
      expect(readRegion(whole, (128 * 2048 - 1) * 512, 8).toString('latin1')).not.toBe('EFI PART');
      if (kind.startsWith('gpt')) expect(execFileSync('sgdisk', ['-v', whole], { encoding: 'utf8' })).not.toMatch(/GPT: present/);
      const reference = sha(whole);

      let sawOld = 0;
      let sawNew = 0;
      for (let n = 0; n <= plan.writes.length; n++) {
        for (const torn of n < plan.writes.length && plan.writes[n]!.count > 1 ? [0, 1] : [0]) {
          const img = join(dir, `${kind}-cut.img`);
          copyFileSync(orig, img);
          const rec = join(dir, `${kind}-cut.json`);
          const identity = { card: kind, sectors: 128 * 2048 };
          const err = await withImage(img, (d) => applyRepair(new FaultDevice(d, n, torn ? Math.ceil(plan.writes[n]!.count / 2) : 0), plan, { identity, recordPath: rec }).then(() => null, (e) => e));
          if (n < plan.writes.length) expect(err).toBeInstanceOf(Cut);
          const now = await withImage(img, (d) => probeCard(d));
          const isOld = readsOld(now, old);
          const isNew = isOld ? { ok: false, why: '' } : readsNew(img, now, plan);
          expect(isOld || isNew.ok, `cut after ${n} writes (torn ${torn}): ${now.table} ${fsOf(now)}; ${isNew.why}`).toBe(true);
          if (isOld) sawOld++;
          else sawNew++;
          // The re-run completes it from the host's record, to the same bytes.
          const r = await withImage(img, (d) => resumeRepair(d, { identity, recordPath: rec }));
          expect(r.status).toBe(n < plan.writes.length ? 'completed' : 'none');
          expect(existsSync(rec)).toBe(false);
          expect(sha(img), `after the re-run of a cut after ${n}`).toBe(reference);
        }
      }
      expect(sawOld).toBeGreaterThan(0);
      expect(sawNew).toBeGreaterThan(0);
    }, 120_000);
  }

  it('a readable FAT32 card is left alone (no repair planned)', async () => {
    const img = join(dir, 'fat32.img');
    makeForeignCard(img, 'exfat-mbr', 256);
    execFileSync('mkfs.fat', ['-F', '32', '-h', '2048', '--offset=2048', img, String((256 * 2048 - 2048) / 2)], { stdio: 'ignore' });
    execFileSync('sfdisk', ['-q', '--part-type', img, '1', 'c']);
    const plan = await withImage(img, (d) => planRepair(d, board));
    expect(plan.needed).toBe(false);
    expect(plan.writes).toEqual([]);
  });

  it('a record that does not fit the card (it changed since) is set aside and nothing is written', async () => {
    const img = join(dir, 'changed.img');
    makeForeignCard(img, 'exfat-whole', 512);
    const plan = await withImage(img, (d) => planRepair(d, board, { now: NOW, volumeId: VOLUME_ID }));
    const rec = join(dir, 'changed.json');
    const identity = { card: 'changed', sectors: 128 * 2048 };
    await withImage(img, (d) => applyRepair(new FaultDevice(d, 1), plan, { identity, recordPath: rec }).catch(() => null));
    // Someone formats the card on a PC meanwhile.
    execFileSync('mkfs.exfat', ['-L', 'AGAIN', img], { stdio: 'ignore' });
    const before = sha(img);
    const r = await withImage(img, (d) => resumeRepair(d, { identity, recordPath: rec }));
    expect(r.status).toBe('stale');
    expect(sha(img)).toBe(before);
    expect(existsSync(rec)).toBe(false);
  });

  it('an SDXC exFAT card (64 GiB, volume at 16 MiB): the new volume starts in the first 16 MiB unit, data on a unit boundary', async () => {
    const img = join(dir, 'sdxc.img');
    makeForeignCard(img, 'exfat-mbr', 64 * 1024);
    const plan = await withImage(img, (d) => planRepair(d, board, { now: NOW, volumeId: VOLUME_ID }));
    const l = plan.layout!;
    expect(l.boundaryUnit).toBe(32768);
    expect(l.dataStartAbsolute % 32768).toBe(0);
    expect(l.partitionStart).toBeGreaterThanOrEqual(32768);
    expect(plan.bytesWritten).toBeLessThan(80 * 1024);
    expect(plan.unusedBytes).toBeGreaterThan(60 * 1024 ** 3);
    await withImage(img, (d) => applyRepair(d, plan, { identity: { card: 'sdxc', sectors: d.sectorCount }, recordPath: join(dir, 'sdxc.json') }));
    expect(fsckFat(img, l.partitionStart * 512, l.partitionSectors * 512).ok).toBe(true);
    expect(mdir(img, l.partitionStart * 512)).toMatch(/FIRMWARE/);
  }, 60_000);
});

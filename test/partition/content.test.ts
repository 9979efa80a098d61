import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseBootSector } from '../../src/partition/boot-sector.js';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCardContent, describeContent } from '../../src/cli/render/card-content.js';
import type { BlockDevice } from '../../src/disk/block-device.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { readVolumeContent } from '../../src/partition/content.js';
import { probeCard, type CardProbe } from '../../src/partition/probe.js';
import { mdir, removeDir, tempDir } from '../helpers/judges.js';
import { MiB, blank, cb1Card, extPartition, fatPartition, lvmLabel, poke, sfdisk, wholeCard } from './cards.js';

// Issue 14: what is on a card now, by signature, on cards made by the real tools.
const dir = tempDir('fwcard-content-');
afterAll(() => removeDir(dir));

async function probe(img: string): Promise<CardProbe> {
  const dev = openImageFile(img, { readOnly: true });
  try {
    return await probeCard(dev, { details: true });
  } finally {
    await dev.close();
  }
}

describe('partitions by signature (issue 14)', () => {
  it('a CB1-style card: FAT boot with its files, ext4 opi_root, swap (no longer "Linux, empty")', async () => {
    const p = await probe(cb1Card(join(dir, 'cb1.img')));
    expect(p.table).toBe('mbr');
    const [boot, root, swap] = p.partitions;
    expect(boot!.content).toMatchObject({ fs: 'FAT32', label: 'BOOT', files: { count: 4, complete: true } });
    expect(boot!.content.files!.names).toEqual(['dtb/', 'armbianEnv.txt', 'boot.scr', 'a long file name.txt']);
    expect(boot!.content.usedBytes).toBeGreaterThan(0);
    expect(root!.content).toMatchObject({ fs: 'ext4', label: 'opi_root', sizeBytes: 512 * MiB });
    expect(root!.content.usedBytes).toBeGreaterThan(MiB);
    expect(root!.fs).toBe('ext4');
    expect(swap!.content).toMatchObject({ fs: 'swap', label: 'cb1swap' });
    const text = describeCardContent(p).join('\n');
    expect(text).toMatch(/#2: start 270336, 512 MiB, Linux: ext4 "opi_root", [\d.]+ MiB used of 512 MiB/);
    expect(text).toMatch(/#3: start 1318912, 380 MiB, Linux swap: swap "cb1swap" \(v1, 4 KiB pages\)/);
    expect(text).toMatch(/#1: .*FAT32 "BOOT", .* used of 128 MiB, 4 entries in the root: dtb\/, armbianEnv\.txt, boot\.scr, a long file name\.txt/);
    expect(text).not.toMatch(/empty/);
  });

  it('ext2 and ext3 are told from ext4 by their features', async () => {
    const img = blank(join(dir, 'ext23.img'), 256 * MiB);
    sfdisk(img, 'label: dos\nstart=2048, size=131072, type=83\nstart=133120, type=83\n');
    extPartition(img, 2048, 131072, 'old', 'ext2');
    extPartition(img, 133120, 524288 - 133120, 'mid', 'ext3');
    const p = await probe(img);
    expect(p.partitions.map((x) => [x.fs, x.label])).toEqual([['ext2', 'old'], ['ext3', 'mid']]);
  });

  it('GPT: type names and partition names from sgdisk; an erased partition is empty, one holding data is not', async () => {
    const img = blank(join(dir, 'gpt.img'), 256 * MiB);
    const r = spawnSync('sgdisk', ['-n', '1:2048:+64M', '-t', '1:ef00', '-c', '1:boot', '-n', '2:0:+64M', '-t', '2:8300', '-c', '2:rootfs', '-n', '3:0:+32M', '-t', '3:8200', '-n', '4:0:+32M', '-t', '4:0700', '-c', '4:data', img], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    fatPartition(img, 2048, 131072, 'EFI', { 'startup.nsh': 'fs0:' });
    extPartition(img, 133120, 131072, 'rootfs');
    // Partition 3 stays erased; partition 4 gets data in its middle only (no signature).
    const p4 = 264192 + 65536;
    poke(img, p4 * 512 + 14 * MiB, randomBytes(4 * MiB));
    const p = await probe(img);
    expect(p.table).toBe('gpt');
    expect(p.gptHeader).toBe(true);
    expect(p.partitions.map((x) => [x.index, x.typeName, x.name, x.fs])).toEqual([
      [0, 'EFI system', 'boot', 'FAT32'],
      [1, 'Linux filesystem', 'rootfs', 'ext4'],
      [2, 'Linux swap', null, 'empty'],
      [3, 'Microsoft basic data', 'data', 'unknown'],
    ]);
    const text = describeCardContent(p).join('\n');
    expect(text).toMatch(/^GPT partition table with 4 partitions/);
    expect(text).toMatch(/#1: start 2048, 64.0 MiB, EFI system "boot": FAT32 "EFI", .*startup\.nsh/);
    expect(text).toMatch(/#3: .*Linux swap: empty \(no file system, no data found\)/);
    expect(text).toMatch(/#4: .*Microsoft basic data "data": unknown data \(no file system fwcard recognises\)/);
  });

  it('cards without a partition table: each file system by its own tool', async () => {
    const cases: [Parameters<typeof wholeCard>[1], string, RegExp][] = [
      ['ext4', 'ROOTFS', /^ext4 "ROOTFS", [\d.]+ MiB used of 64.0 MiB$/],
      ['exfat', 'EXVOL', /^exFAT "EXVOL", root directory empty$/],
      ['ntfs', 'NTVOL', /^NTFS "NTVOL"$/],
      ['luks', 'CARDKEY', /^LUKS encrypted volume "CARDKEY" \(LUKS2, encrypted\)$/],
      ['btrfs', 'BTRVOL', /^btrfs "BTRVOL", [\d.]+ KiB used of 128 MiB$/],
      ['xfs', 'XFSVOL', /^xfs "XFSVOL", [\d.]+ MiB used of 320 MiB$/],
      ['iso', 'MYISO', /^ISO 9660 image "MYISO", [\d.]+ KiB$/],
      ['swap64k', 'bigpages', /^swap "bigpages" \(v1, 64 KiB pages\), 64.0 MiB$/],
    ];
    for (const [kind, label, text] of cases) {
      const p = await probe(wholeCard(dir, kind, label));
      expect(p.table, kind).toBe('none');
      expect(p.whole!.label, kind).toBe(label);
      expect(describeContent(p.whole!), kind).toMatch(text);
      expect(describeCardContent(p)[0], kind).toBe(`no partition table; the whole card: ${describeContent(p.whole!)}`);
    }
  }, 60_000);

  it('an LVM2 physical volume (label written by hand) and logical partitions in an extended partition', async () => {
    const img = blank(join(dir, 'ext.img'), 256 * MiB);
    sfdisk(img, 'label: dos\nstart=2048, size=65536, type=8e\nstart=67584, type=5\nstart=69632, size=131072, type=83\n');
    lvmLabel(img, 2048 * 512);
    extPartition(img, 69632, 131072, 'logical1');
    const p = await probe(img);
    expect(p.partitions[0]!.content).toMatchObject({ fs: 'LVM2', detail: 'physical volume', sizeBytes: 64 * MiB });
    expect(p.partitions[1]!.content.detail).toMatch(/extended partition/);
    expect(p.logical.map((x) => [x.index, x.fs, x.label])).toEqual([[4, 'ext4', 'logical1']]);
    const text = describeCardContent(p).join('\n');
    expect(text).toMatch(/#1: .*type 0x8e: LVM2 physical volume/);
    expect(text).toMatch(/#5: start 69632, 64.0 MiB, Linux: ext4 "logical1"/);
  });

  it('"empty" only when every sampled sector is erased (zeros, or 0xFF as erased flash reads)', async () => {
    const zeros = blank(join(dir, 'zeros.img'), 64 * MiB);
    expect((await probe(zeros)).whole!.fs).toBe('empty');
    const ff = join(dir, 'ff.img');
    blank(ff, 8 * MiB);
    poke(ff, 0, new Uint8Array(8 * MiB).fill(0xff));
    expect((await probe(ff)).whole!.fs).toBe('empty');
    // Data right after the first 4 KiB, and data only in the middle: both are data.
    for (const at of [4096, 30 * MiB]) {
      const img = blank(join(dir, `data-${at}.img`), 64 * MiB);
      poke(img, at, randomBytes(2 * MiB));
      const dev = openImageFile(img, { readOnly: true });
      try {
        expect((await readVolumeContent(dev, 0, dev.sectorCount)).fs, `data at ${at}`).toBe('unknown');
      } finally {
        await dev.close();
      }
    }
  });

  it('reads only a handful of sectors for a partition without a signature', async () => {
    const img = blank(join(dir, 'count.img'), 64 * MiB);
    const dev = openImageFile(img, { readOnly: true });
    try {
      const before = dev.counters.bytesRead;
      await readVolumeContent(dev, 0, dev.sectorCount, { details: true });
      expect(dev.counters.bytesRead - before).toBeLessThanOrEqual(64 * 1024);
    } finally {
      await dev.close();
    }
  });

  it('FAT12, FAT16 and FAT32 used space agrees with what mtools counts free', async () => {
    for (const [bits, mib] of [[12, 4], [16, 64], [32, 64]] as const) {
      const img = blank(join(dir, `used${bits}.img`), mib * MiB);
      const r = spawnSync('mkfs.fat', ['-F', String(bits), '-n', `USED${bits}`, img], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const payload = join(dir, 'payload.bin');
      writeFileSync(payload, randomBytes(300_000));
      expect(spawnSync('mcopy', ['-i', img, payload, '::/'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } }).status).toBe(0);
      const free = Number(/([\d ]+) bytes free/.exec(mdir(img, 0))![1]!.replace(/ /g, ''));
      const bs = parseBootSector(readFileSync(img).subarray(0, 512));
      if (bs.kind !== 'fat') throw new Error('not FAT');
      const p = await probe(img);
      expect(p.whole, `FAT${bits}`).toMatchObject({ fs: `FAT${bits}`, label: `USED${bits}`, usedBytes: bs.clusterCount * bs.clusterBytes - free, files: { names: ['payload.bin'] } });
    }
  });

  it('a damaged or hostile volume never makes the probe throw', async () => {
    const img = blank(join(dir, 'hostile.img'), 32 * MiB);
    const made = spawnSync('mkfs.fat', ['-F', '16', img], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const good = readFileSync(img).subarray(0, 512);
    expect(parseBootSector(good)).toMatchObject({ kind: 'fat', fatType: 'FAT16' });
    await fc.assert(
      // Edits land mostly in the BPB (bytes 11-63), where a small change makes a FAT too small
      // for its cluster count, a root directory outside the volume, a cluster chain that loops.
      fc.asyncProperty(fc.array(fc.tuple(fc.oneof(fc.integer({ min: 11, max: 63 }), fc.integer({ min: 0, max: 4095 })), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.uint8Array({ minLength: 512, maxLength: 512 }), async (edits, junk) => {
        const head = new Uint8Array(4096);
        head.set(good);
        head.set(junk, 512 + 512 * (edits.length % 7));
        for (const [at, v] of edits) head[at] = v;
        poke(img, 0, head);
        const dev = openImageFile(img, { readOnly: true });
        try {
          const c = await readVolumeContent(dev, 0, dev.sectorCount, { details: true });
          expect(typeof c.fs).toBe('string');
        } finally {
          await dev.close();
        }
      }),
      { numRuns: 300, examples: [[[[22, 1], [23, 0]], new Uint8Array(512)]] }, // a one-sector FAT for 2000 clusters
    );
  });
});

/** Every read that reaches the device below, as [lba, count]. */
function countingReads(inner: BlockDevice): { dev: BlockDevice; reads: Array<[number, number]>; sectors: () => number } {
  const reads: Array<[number, number]> = [];
  const dev: BlockDevice = {
    name: inner.name,
    sectorSize: inner.sectorSize,
    sectorCount: inner.sectorCount,
    readOnly: inner.readOnly,
    read: (lba, count) => {
      reads.push([lba, count]);
      return inner.read(lba, count);
    },
    write: (lba, data) => inner.write(lba, data),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
  return { dev, reads, sectors: () => reads.reduce((a, [, n]) => a + n, 0) };
}

async function contentWithReads(img: string, start = 0, sectors?: number) {
  const inner = openImageFile(img, { readOnly: true });
  try {
    const c = countingReads(inner);
    const content = await readVolumeContent(c.dev, start, sectors ?? inner.sectorCount - start);
    return { content, reads: c.reads, sectors: c.sectors() };
  } finally {
    await inner.close();
  }
}

describe('readVolumeContent reads the boot sector first (a sector over an MCU costs a round trip)', () => {
  const rdir = tempDir('fwcard-content-reads-');
  afterAll(() => removeDir(rdir));

  it('FAT16 and FAT32 volumes: exactly one sector read, the boot sector', async () => {
    for (const [bits, mib] of [[16, 32], [32, 64]] as const) {
      const img = blank(join(rdir, `fat${bits}.img`), mib * MiB);
      const r = spawnSync('mkfs.fat', ['-F', String(bits), '-n', `ONE${bits}`, img], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const got = await contentWithReads(img);
      expect(got.content, `FAT${bits}`).toMatchObject({ fs: `FAT${bits}`, label: `ONE${bits}`, sizeBytes: mib * MiB });
      expect(got.reads, `FAT${bits}`).toEqual([[0, 1]]);
    }
  });

  it('a FAT32 partition in an MBR table: one read, of the partition\'s first sector', async () => {
    const img = blank(join(rdir, 'mbr-fat.img'), 80 * MiB);
    sfdisk(img, 'label: dos\nstart=2048, size=135168, type=c\n');
    fatPartition(img, 2048, 135168, 'PART', { 'a.txt': 'a' });
    const got = await contentWithReads(img, 2048, 135168);
    expect(got.content).toMatchObject({ fs: 'FAT32', label: 'PART' });
    expect(got.reads).toEqual([[2048, 1]]);
  });

  it('exFAT and NTFS are told from the boot sector alone too', async () => {
    for (const [kind, fs] of [['exfat', 'exFAT'], ['ntfs', 'NTFS']] as const) {
      const got = await contentWithReads(wholeCard(rdir, kind, 'BOOTONLY'));
      expect(got.content.fs, kind).toBe(fs);
      expect(got.reads, kind).toEqual([[0, 1]]);
    }
  });

  it('ext4 and LUKS: the boot sector, then the 8-sector head that holds their signature', async () => {
    for (const [kind, fs] of [['ext4', 'ext4'], ['luks', 'LUKS']] as const) {
      const got = await contentWithReads(wholeCard(rdir, kind, 'HEADVOL'));
      expect(got.content, kind).toMatchObject({ fs, label: 'HEADVOL' });
      expect(got.reads, kind).toEqual([
        [0, 1],
        [0, 8],
      ]);
    }
  }, 30_000);

  it('an erased volume: the boot sector, the 8-sector head, then the samples; still "empty"', async () => {
    const img = blank(join(rdir, 'erased.img'), 16 * MiB);
    const got = await contentWithReads(img);
    expect(got.content.fs).toBe('empty');
    expect(got.reads.slice(0, 2)).toEqual([
      [0, 1],
      [0, 8],
    ]);
    expect(got.reads.length).toBeGreaterThan(2);
  });

  it('a FAT-looking boot sector that is not a valid FAT still reaches the head: an ext superblock behind it wins', async () => {
    const img = wholeCard(rdir, 'ext2', 'BEHIND');
    // A 0x55AA signature and a jump, but no BPB: not FAT, so the 4 KiB head is read next.
    const boot = new Uint8Array(512);
    boot.set([0xeb, 0x3c, 0x90], 0);
    boot[510] = 0x55;
    boot[511] = 0xaa;
    poke(img, 0, boot);
    const got = await contentWithReads(img);
    expect(got.content).toMatchObject({ fs: 'ext2', label: 'BEHIND' });
    expect(got.reads.slice(0, 2)).toEqual([
      [0, 1],
      [0, 8],
    ]);
  });
});

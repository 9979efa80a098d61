import { spawnSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { BlockDevice } from '../../src/disk/block-device.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { RemoteFatVolume } from '../../src/fat/remote-volume.js';
import { fsckFat, removeDir, tempDir } from '../helpers/judges.js';

/**
 * Every FatFs worker RemoteFatVolume starts, with whether it has exited. The module keeps one
 * spare worker between mounts (and `warm()` starts one ahead); counting the workers it
 * constructs is how these tests see which mount reused which worker.
 */
const workers = vi.hoisted(() => [] as Array<{ worker: Worker; exited: boolean }>);

vi.mock('node:worker_threads', async (importOriginal) => {
  const m = await importOriginal<typeof import('node:worker_threads')>();
  class CountingWorker extends m.Worker {
    constructor(...args: ConstructorParameters<typeof m.Worker>) {
      super(...args);
      const entry = { worker: this as Worker, exited: false };
      workers.push(entry);
      this.once('exit', () => (entry.exited = true));
    }
  }
  return { ...m, Worker: CountingWorker, default: { ...m, Worker: CountingWorker } };
});

const dir = tempDir('fwcard-remote-reuse-');
afterAll(() => removeDir(dir));

function fatImage(name: string, label: string, mib: number): string {
  const img = join(dir, name);
  writeFileSync(img, '');
  truncateSync(img, mib * 1024 * 1024);
  const r = spawnSync('mkfs.fat', ['-F', '16', '-s', '1', '-n', label, img], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return img;
}

/** The device below, counting the sectors FatFs asked for (a mount that reached it reads some). */
function counted(inner: BlockDevice): BlockDevice & { reads: number } {
  const d = {
    name: inner.name,
    sectorSize: inner.sectorSize,
    sectorCount: inner.sectorCount,
    readOnly: inner.readOnly,
    reads: 0,
    read: (lba: number, count: number) => {
      d.reads++;
      return inner.read(lba, count);
    },
    write: (lba: number, data: Uint8Array) => inner.write(lba, data),
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
  return d;
}

const live = () => workers.filter((w) => !w.exited).length;
const tick = () => new Promise((r) => setTimeout(r, 50));

describe('RemoteFatVolume keeps a started FatFs worker for the next mount', () => {
  // The tests share the module's spare worker, so they run in this order on purpose.

  it('warm() starts one worker ahead (once), and mount uses it instead of starting another', async () => {
    expect(workers).toHaveLength(0);
    RemoteFatVolume.warm();
    RemoteFatVolume.warm(); // a spare waits already: no second one
    expect(workers).toHaveLength(1);
    const img = openImageFile(fatImage('warm.img', 'WARM', 8));
    try {
      const vol = await RemoteFatVolume.mount(img);
      expect(workers).toHaveLength(1);
      expect((await vol.info()).fsType).toBe('FAT16');
      await vol.writeFile('/warm.txt', new TextEncoder().encode('warm'));
      await vol.unmount();
    } finally {
      await img.close();
    }
    await tick();
    // A clean unmount keeps the worker alive as the spare.
    expect(workers).toHaveLength(1);
    expect(live()).toBe(1);
  });

  it('mount, write, unmount, then mount again: the second mount reuses the worker and reads the file back', async () => {
    const path = fatImage('again.img', 'AGAIN', 8);
    const data = new Uint8Array(40_000).map((_, i) => (i * 13 + 5) & 255);
    const before = workers.length;
    const first = openImageFile(path);
    try {
      const vol = await RemoteFatVolume.mount(first);
      await vol.writeFile('/klipper.bin', data);
      await vol.unmount();
    } finally {
      await first.close();
    }
    // The same file, opened anew (as after the board's reset): same worker, data intact.
    const second = counted(openImageFile(path));
    try {
      const vol = await RemoteFatVolume.mount(second);
      expect(Buffer.from(await vol.readFile('/klipper.bin')).equals(Buffer.from(data))).toBe(true);
      expect((await vol.list('/')).map((e) => e.name)).toEqual(['klipper.bin']);
      await vol.unmount();
    } finally {
      await second.close();
    }
    expect(second.reads).toBeGreaterThan(0); // the reused worker served this device, not the first one
    expect(workers.length).toBe(before);
    expect(fsckFat(path).status).toBe(0);
  });

  it('a reused worker mounts a different device: the new one, with its own size and files', async () => {
    const a = openImageFile(fatImage('dev-a.img', 'DEVA', 8));
    const b = counted(openImageFile(fatImage('dev-b.img', 'DEVB', 32)));
    const before = workers.length;
    try {
      const va = await RemoteFatVolume.mount(a);
      await va.writeFile('/only-on-a.txt', new TextEncoder().encode('a'));
      const freeA = (await va.info()).freeBytes;
      await va.unmount();
      const vb = await RemoteFatVolume.mount(b);
      expect(b.reads).toBeGreaterThan(0);
      expect(await vb.tryStat('/only-on-a.txt')).toBeUndefined();
      expect((await vb.info()).freeBytes).toBeGreaterThan(freeA * 2); // 32 MiB, not the 8 MiB volume
      await vb.writeFile('/on-b.txt', new TextEncoder().encode('b'));
      expect((await vb.list('/')).map((e) => e.name)).toEqual(['on-b.txt']);
      await vb.unmount();
    } finally {
      await a.close();
      await b.close();
    }
    expect(workers.length).toBe(before);
    expect(fsckFat(join(dir, 'dev-b.img')).status).toBe(0);
  });

  it('a failed mount stops its worker; the next mount starts a fresh one and works', async () => {
    const erased = join(dir, 'erased.img');
    writeFileSync(erased, '');
    truncateSync(erased, 4 * 1024 * 1024);
    const bad = openImageFile(erased);
    const before = workers.length;
    const spare = workers.at(-1)!;
    expect(spare.exited).toBe(false);
    try {
      await expect(RemoteFatVolume.mount(bad)).rejects.toMatchObject({ code: 'no-filesystem' });
    } finally {
      await bad.close();
    }
    await tick();
    expect(workers.length).toBe(before); // it used the spare...
    expect(spare.exited).toBe(true); // ...and stopped it, so no spare is left
    const good = openImageFile(fatImage('after-fail.img', 'AFTER', 8));
    try {
      const vol = await RemoteFatVolume.mount(good);
      expect(workers.length).toBe(before + 1);
      await vol.writeFile('/ok.txt', new TextEncoder().encode('ok'));
      expect(new TextDecoder().decode(await vol.readFile('/ok.txt'))).toBe('ok');
      await vol.unmount();
    } finally {
      await good.close();
    }
    await tick();
    expect(live()).toBe(1); // the fresh worker now waits as the spare
  });

  it('a spare that is already waiting is not replaced: a second unmounted volume\'s worker is stopped', async () => {
    const one = openImageFile(fatImage('one.img', 'ONE', 8));
    const two = openImageFile(fatImage('two.img', 'TWO', 8));
    const before = workers.length;
    try {
      const v1 = await RemoteFatVolume.mount(one); // takes the spare
      const v2 = await RemoteFatVolume.mount(two); // none left: starts one
      expect(workers.length).toBe(before + 1);
      await v1.unmount(); // becomes the spare
      await v2.unmount(); // a spare waits: this one is stopped
    } finally {
      await one.close();
      await two.close();
    }
    await tick();
    expect(live()).toBe(1);
    expect(workers.at(-1)!.exited).toBe(true);
  });
});

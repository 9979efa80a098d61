import { describe, expect, it, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { BlockDevice } from '../../src/disk/block-device.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { PartitionView } from '../../src/disk/partition-view.js';
import { IoError } from '../../src/errors.js';
import { RemoteFatVolume } from '../../src/fat/remote-volume.js';
import { prepare } from '../../src/flows/prepare.js';
import { fsckFat, mcopyOut, removeDir, tempDir } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const dir = tempDir();
afterAll(() => removeDir(dir));

/** An asynchronous-only device, like a card behind an MCU: every request resolves later. */
class SlowAsyncDevice implements BlockDevice {
  readonly name: string;
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly = false;
  requests = 0;
  failWritesAt: number | null = null;
  constructor(private readonly inner: BlockDevice) {
    this.name = `async:${inner.name}`;
    this.sectorSize = inner.sectorSize;
    this.sectorCount = inner.sectorCount;
  }
  private later<T>(f: () => Promise<T>): Promise<T> {
    this.requests++;
    return new Promise((res, rej) => setTimeout(() => f().then(res, rej), 1));
  }
  read(lba: number, count: number) {
    return this.later(() => this.inner.read(lba, count));
  }
  write(lba: number, data: Uint8Array) {
    if (this.failWritesAt !== null && lba >= this.failWritesAt) {
      return this.later(() => Promise.reject(new IoError('card-write-rejected', `card rejected a write at sector ${lba}`, { hint: 'Re-insert the card.' })));
    }
    return this.later(() => this.inner.write(lba, data));
  }
  flush() {
    return this.later(() => this.inner.flush());
  }
  close() {
    return this.inner.close();
  }
}

async function freshCard(name: string) {
  const img = join(dir, name);
  const r = await prepare({ target: img, size: 256 * 1024 * 1024, board: 'btt-octopus-f446-v1', firmware: FIRMWARE, confirm: async () => true });
  return { img, start: r.partitionStart, sectors: r.partitionSectors };
}

describe('RemoteFatVolume: FatFs in a worker over an asynchronous device', () => {
  it('writes, lists, renames and reads back through the worker; fsck.fat and mtools agree', async () => {
    const card = await freshCard('remote.img');
    const img = openImageFile(card.img);
    const dev = new SlowAsyncDevice(new PartitionView(img, card.start, card.sectors));
    const vol = await RemoteFatVolume.mount(dev);
    const data = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) & 255);
    const seen: number[] = [];
    await vol.writeFile('/NEW.TMP', data, (e) => e.bytes !== undefined && seen.push(e.bytes));
    await vol.rename('/NEW.TMP', '/klipper.bin');
    expect((await vol.tryStat('/klipper.bin'))?.size).toBe(300_000);
    expect(await vol.tryStat('/NEW.TMP')).toBeUndefined();
    expect((await vol.list('/')).map((e) => e.name).sort()).toEqual(['firmware.bin', 'klipper.bin']);
    expect(Buffer.from(await vol.readFile('/klipper.bin')).equals(Buffer.from(data))).toBe(true);
    expect(seen.at(-1)).toBe(300_000);
    await vol.unmount();
    await img.close();
    expect(dev.requests).toBeGreaterThan(3);
    expect(fsckFat(card.img, card.start * 512, card.sectors * 512).status).toBe(0);
    expect(mcopyOut(card.img, card.start * 512, '/klipper.bin', dir).equals(Buffer.from(data))).toBe(true);
    expect(mcopyOut(card.img, card.start * 512, '/firmware.bin', dir).equals(readFileSync(FIRMWARE))).toBe(true);
  });

  it("reports the device's own typed error when a write fails, and the worker is stopped cleanly", async () => {
    const card = await freshCard('failing.img');
    const img = openImageFile(card.img);
    const dev = new SlowAsyncDevice(new PartitionView(img, card.start, card.sectors));
    const vol = await RemoteFatVolume.mount(dev);
    dev.failWritesAt = 0;
    await expect(vol.writeFile('/big.bin', new Uint8Array(100_000))).rejects.toMatchObject({ code: 'card-write-rejected', hint: 'Re-insert the card.' });
    await vol.unmount().catch(() => undefined);
    await img.close();
  });

  it('maps a missing file to a typed not-found error', async () => {
    const card = await freshCard('missing.img');
    const img = openImageFile(card.img);
    const vol = await RemoteFatVolume.mount(new SlowAsyncDevice(new PartitionView(img, card.start, card.sectors)));
    await expect(vol.readFile('/nope.bin')).rejects.toMatchObject({ code: 'fat-not-found' });
    await vol.unmount();
    await img.close();
  });
});

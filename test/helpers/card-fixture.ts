/** An emulated SD card on a fresh image file, for the SD driver and emulated-card tests. */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageFile, type ImageDevice } from '../../src/disk/image-file.js';
import { EmulatedSdCard, type EmulatedSdCardOptions } from '../../src/sim/sd-card/emulated-card.js';

export interface CardFixture {
  dir: string;
  path: string;
  image: ImageDevice;
  card: EmulatedSdCard;
  /** Sectors of the backing file, read fresh from disk (not through the card). */
  fileSectors(lba: number, count: number): Uint8Array;
  cleanup(): void;
}

/** A card on a fresh sparse image whose sectors are filled with a recognisable pattern. */
export function makeCard(sizeBytes: number, opts: Omit<EmulatedSdCardOptions, 'device'> = {}, patternSectors = 64): CardFixture {
  const dir = mkdtempSync(join(tmpdir(), 'fwcard-sd-'));
  const path = join(dir, 'card.img');
  const image = openImageFile(path, { size: sizeBytes });
  const pattern = new Uint8Array(patternSectors * 512);
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7 + (i >> 9) * 13) & 0xff;
  image.writeSync(0, pattern);
  const card = new EmulatedSdCard({ device: image, ...opts });
  return {
    dir,
    path,
    image,
    card,
    fileSectors: (lba, count) => {
      const buf = new Uint8Array(count * 512);
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buf, 0, buf.length, lba * 512);
      } finally {
        closeSync(fd);
      }
      return buf;
    },
    cleanup: () => {
      void image.close().finally(() => rmSync(dir, { recursive: true, force: true }));
    },
  };
}

export function randomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

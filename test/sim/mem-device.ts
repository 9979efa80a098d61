import type { SyncBlockDevice } from '../../src/disk/block-device.js';

/** A sparse in-memory disk for simulator tests (unwritten sectors read as zero). */
export class MemDevice implements SyncBlockDevice {
  readonly sectorSize = 512;
  readonly readOnly = false;
  readonly sectors = new Map<number, Uint8Array>();
  constructor(
    readonly sectorCount: number,
    readonly name = 'mem',
  ) {}
  readSync(lba: number, count: number, into?: Uint8Array): Uint8Array {
    const out = into ?? new Uint8Array(count * 512);
    for (let i = 0; i < count; i++) {
      const s = this.sectors.get(lba + i);
      if (s) out.set(s, i * 512);
      else out.fill(0, i * 512, (i + 1) * 512);
    }
    return out;
  }
  writeSync(lba: number, data: Uint8Array): void {
    for (let i = 0; i < data.length / 512; i++) this.sectors.set(lba + i, data.slice(i * 512, (i + 1) * 512));
  }
  flushSync(): void {}
}

export function pattern(n: number, seed: number): Uint8Array {
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

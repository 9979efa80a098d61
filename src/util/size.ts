import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1000, kib: 1024,
  m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1000 ** 4, tib: 1024 ** 4,
};

/**
 * Parse "8G", "512M", "4GiB", "32GB", "65536". Single letters and the IEC suffixes are powers of
 * 1024; "GB"/"MB" are decimal, as printed on card packaging (a "32 GB" card holds ~31.9e9 bytes).
 */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? '';
  if (!m || !(unit in UNITS)) {
    throw new UsageError('bad-size', `cannot read ${what} "${text}"`, {
      hint: 'Write a size like 64M, 2G, 32G, 4GiB or 32GB (GB = 1000³ bytes, G/GiB = 1024³).',
    });
  }
  const value = Math.round(Number(m[1]) * UNITS[unit]!);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError('bad-size', `${what} "${text}" is out of range`, { hint: 'Use a positive size below 8 PiB.' });
  }
  return value;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/**
 * A card size as sold: decimal GB (10^9 bytes), the unit on a card's label, so "a card of 32 GB
 * or less" means what the shop means. Exact sizes (images, volumes, files) use formatBytes.
 */
export function formatGB(n: number): string {
  const gb = n / 1e9;
  const text = gb >= 100 ? gb.toFixed(0) : gb.toFixed(1);
  return `${text.replace(/\.0$/, '')} GB`;
}

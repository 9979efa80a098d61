import { isShortName, type DirEntry } from '../../fat/inspect/index.js';
import { editDistance } from '../../util/edit-distance.js';

/** Case-insensitive name equality, as FatFs compares names. */
export const sameName = (a: string, b: string): boolean => a.toUpperCase() === b.toUpperCase();

/** The name a bootloader's directory listing shows for an entry. */
export function visibleName(e: DirEntry, readsLongNames: boolean | 'unknown'): string {
  return readsLongNames !== false && e.longName ? e.longName : e.shortDisplay;
}

/** Does `e` carry the name `wanted`, by long name or by 8.3 name? */
export function nameMatch(e: DirEntry, wanted: string): { long: boolean; short: boolean } {
  return { long: !!e.longName && sameName(e.longName, wanted), short: isShortName(wanted) && sameName(e.shortName, wanted) };
}

export const isAppleDouble = (name: string): boolean => name.startsWith('._');

/** macOS metadata folders and files that bootloaders trip over (Spotlight index, fsevents log, trash). */
export const MACOS_METADATA = ['.Spotlight-V100', '.fseventsd', '.Trashes', '.TemporaryItems', '.DS_Store'];


/**
 * Is `name` a near miss of `wanted`? Returns how it misses, or null. The shapes seen in user
 * reports: a browser's "firmware(1).bin", Windows hiding a known extension ("firmware.bin.bin"),
 * a stray space or dot, and typos ("frimware.bin").
 */
export function nearMiss(name: string, wanted: string): string | null {
  if (isAppleDouble(name) || sameName(name, wanted)) return null;
  const n = name.toLowerCase();
  const w = wanted.toLowerCase();
  const dot = w.lastIndexOf('.');
  const stem = dot > 0 ? w.slice(0, dot) : w;
  const ext = dot > 0 ? w.slice(dot) : '';
  if (n.trim().replace(/[. ]+$/, '') === w) return 'stray spaces or dots';
  if (n.startsWith(w) && /^(\.[a-z0-9]{1,4})+$/.test(n.slice(w.length))) return 'a doubled extension';
  if (ext && n.endsWith(ext)) {
    const middle = n.slice(0, n.length - ext.length);
    if (middle.startsWith(stem) && /^[\s_-]*(\(\d+\)|\(copy\)|copy|-?\d{1,3}|\s+\(\d+\))$/.test(middle.slice(stem.length))) return 'a copy number';
  }
  if (editDistance(n.trim(), w) <= 2 && w.length >= 6) return 'a typo';
  return null;
}

// `fwcard check --fix` changes only what it reports (issue 7). A card is built with the defects
// check has fixes for (AppleDouble files, macOS metadata folders, a near-miss or wrongly cased
// firmware name, a long-name-only firmware entry, orphaned long names) mixed with defects it
// only reports (a dirty volume, FIRMWARE.CUR, several near misses, System Volume Information)
// and the user's files; after `check --fix --json`, every difference between the card before and
// after — entry by entry (mtools and our raw reader), directory slot by slot, FAT entry by FAT
// entry, sector by sector everywhere else — must be one of the fixes the run reported as done.
import { writeFileSync, mkdirSync, mkdtempSync, rmSync, openSync, writeSync, closeSync, readSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { baseOf, joinPath, keyOf, mtoolsDifferences, mtoolsOk, rawDifferences } from './card-tree.js';

/** Boards with different file rules: the generic view, 8.3-only, case-sensitive, any "*.bin". */
export const FIX_BOARDS = [
  { board: null, fw: 'firmware.bin' },
  { board: 'btt-skr-v1.3', fw: 'firmware.bin', longOnly: true },
  { board: 'mks-robin-e3', fw: 'Robin_e3.bin', caseSensitive: true },
  { board: 'creality-v4.2.2', fw: '*.bin' },
];

function patchAt(img, offset, bytes) {
  const fd = openSync(img, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function readAt(img, offset, length) {
  const fd = openSync(img, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** Near misses of `fw` that check recognises: a copy number, a doubled extension, a typo. */
function nearMisses(fw) {
  const dot = fw.lastIndexOf('.');
  const stem = fw.slice(0, dot);
  const ext = fw.slice(dot);
  return [`${stem}(1)${ext}`, `${fw}.bin`, `${stem[0]}${stem[2]}${stem[1]}${stem.slice(3)}${ext}`];
}

/**
 * Plant defects on a card that already holds the user's files (seedBystanders). `readTree`
 * reads the card (to find the slots to patch). Returns the names of what was planted.
 */
export async function plantDefects(img, geometry, { rand, scratch, fix, readTree }) {
  const offset = geometry.start * 512;
  const host = mkdtempSync(join(scratch, 'defects-'));
  const file = (name, data) => {
    const p = join(host, String(Math.floor(rand() * 1e9)), name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
    return p;
  };
  const bytes = (n) => Buffer.from(Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const copy = (name, data, to = '::/') => mtoolsOk('mcopy', img, offset, ['-m', file(name, data), to]);
  const planted = [];
  const coin = (p = 0.5) => rand() < p;
  const slotOffset = (s) => (geometry.start + s.sector) * 512 + s.offset;
  try {
    // The firmware file, in one of the states check knows.
    const pattern = fix.fw.startsWith('*');
    const states = pattern ? ['exact', 'none'] : ['exact', 'near-miss', 'near-misses', 'none', ...(fix.caseSensitive ? ['case', 'case'] : []), ...(fix.longOnly ? ['long-only', 'long-only'] : [])];
    const state = states[Math.floor(rand() * states.length)];
    const fwName = pattern ? `fw${String(Math.floor(rand() * 1e6)).padStart(6, '0')}.bin` : fix.fw;
    const misses = pattern ? [] : nearMisses(fix.fw);
    if (state === 'exact') copy(fwName, bytes(9000));
    if (state === 'near-miss') copy(misses[Math.floor(rand() * misses.length)], bytes(9000));
    if (state === 'near-misses') for (const n of misses.slice(0, 2)) copy(n, bytes(9000));
    if (state === 'case') copy(fix.fw.toUpperCase(), bytes(9000));
    if (state === 'long-only') copy(`X${fix.fw.slice(1)}`, bytes(9000));
    planted.push(`firmware ${state}`);
    if (coin()) {
      copy(`._${fwName}`, bytes(4096));
      copy('._printer.cfg', bytes(4096));
      // Not in a folder check reads: a user's file as far as --fix is concerned.
      copy('._x.cfg', bytes(4096), '::/old/');
      planted.push('AppleDouble files');
    }
    if (coin()) {
      mtoolsOk('mmd', img, offset, ['::/.Spotlight-V100', '::/.Spotlight-V100/Store-V2', '::/.fseventsd', '::/.Trashes', '::/.Trashes/501']);
      copy('index.db', bytes(20_000), '::/.Spotlight-V100/Store-V2/');
      copy('fseventsd-uuid', bytes(36), '::/.fseventsd/');
      copy('.DS_Store', bytes(6148));
      copy('first print.gcode', bytes(2000), '::/.Trashes/501/');
      copy('old print.gcode', bytes(3000), '::/.Trashes/501/');
      // FatFs refuses to delete a read-only file: a tree it cannot delete in full.
      if (coin(0.3)) {
        mtoolsOk('mattrib', img, offset, ['+r', '::/.Trashes/501/old print.gcode']);
        planted.push('macOS metadata (a read-only file in .Trashes)');
      } else planted.push('macOS metadata');
    }
    const orphanChecksum = coin();
    const orphanDeleted = coin();
    if (orphanChecksum) copy('Orphaned Long Name.txt', bytes(100));
    if (orphanDeleted) copy('Deleted Long Name.txt', '');
    if (coin(0.3)) {
      copy('FIRMWARE.CUR', bytes(9000));
      planted.push('FIRMWARE.CUR');
    }
    if (coin(0.3)) {
      mtoolsOk('mmd', img, offset, ['::/System Volume Information']);
      copy('IndexerVolumeGuid', bytes(76), '::/System Volume Information/');
      mtoolsOk('mattrib', img, offset, ['+h', '+s', '::/System Volume Information']);
      planted.push('System Volume Information');
    }
    // Raw patches: long names left orphaned, a long name only, the dirty flags.
    if (orphanChecksum || orphanDeleted || state === 'long-only') {
      const tree = await readTree(img);
      const entry = (name) => [...tree.entries.values()].find((e) => e.dir === '/' && e.name === name);
      if (orphanChecksum) {
        // The 8.3 name changed without its long name (a bootloader's rename does that).
        const e = entry('Orphaned Long Name.txt');
        patchAt(img, slotOffset(e.slots.at(-1)), Buffer.from('Q'));
        planted.push('orphaned long name (checksum)');
      }
      if (orphanDeleted) {
        // The 8.3 entry deleted, its long name left (an empty file: no clusters left behind).
        const e = entry('Deleted Long Name.txt');
        patchAt(img, slotOffset(e.slots.at(-1)), Buffer.from([0xe5]));
        planted.push('orphaned long name (deleted entry)');
      }
      if (state === 'long-only') {
        // "firmware.bin" only as the long name of XIRMWARE.BIN (the checksum stays valid).
        const e = entry(`X${fix.fw.slice(1)}`);
        patchAt(img, slotOffset(e.slots[0]) + 1, Buffer.from([fix.fw.charCodeAt(0), 0]));
      }
    }
    if (coin(0.4)) {
      const fat32 = geometry.fatType === 'FAT32';
      const flagAt = offset + (fat32 ? 0x41 : 0x25);
      patchAt(img, flagAt, Buffer.from([readAt(img, flagAt, 1)[0] | 1]));
      for (let k = 0; k < geometry.fatCount; k++) {
        const at = offset + (geometry.reservedSectors + k * geometry.sectorsPerFat) * 512 + (fat32 ? 4 : 2);
        const v = readAt(img, at, fat32 ? 4 : 2);
        if (fat32) v.writeUInt32LE(v.readUInt32LE(0) & ~0x08000000, 0);
        else v.writeUInt16LE(v.readUInt16LE(0) & ~0x8000, 0);
        patchAt(img, at, v);
      }
      planted.push('dirty volume');
    }
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
  return planted;
}

export function describeAction(a) {
  if (a.kind === 'delete') return `delete ${a.path}`;
  if (a.kind === 'rename') return `rename ${a.from} → ${a.to}`;
  return `clear long name "${a.text}" in ${a.dirPath}`;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The entry of `tree` at `path`, each component matched by long or 8.3 name (as FatFs does). */
function resolve(tree, path) {
  let dir = '/';
  let hit = null;
  for (const part of path.split('/').filter(Boolean)) {
    const p = part.toLowerCase();
    hit = [...tree.entries.values()].find((e) => !e.isLabel && keyOf(e.dir) === keyOf(dir) && (e.name.toLowerCase() === p || e.shortName.toLowerCase() === p)) ?? null;
    if (!hit) return null;
    dir = hit.path;
  }
  return hit;
}

const printable = (b) => Buffer.from(b).toString('latin1').replace(/[^\x20-\x7e]/g, '.');

/**
 * Judge one `check --fix --json` run. `before`/`after`: readTree of the card; `bytesBefore`/
 * `bytesAfter`: the whole image; `doc`: the JSON document. Returns the problems (empty: every
 * change is a fix the run reported as done) and what was fixed.
 */
export function judgeFix({ before, after, bytesBefore, bytesAfter, doc }) {
  const problems = [];
  const applied = doc?.fix?.applied;
  if (!Array.isArray(applied)) return { problems: ['no fix.applied in the JSON document'], done: [] };
  const reported = doc.fix.before?.findings ?? [];
  for (const o of applied) {
    if (!reported.some((f) => f.id === o.id && (f.fix ?? []).some((a) => same(a, o.action)))) problems.push(`applied a fix no finding reported: ${o.id}: ${describeAction(o.action)}`);
  }
  const done = applied.filter((o) => o.done);

  // What the reported fixes may change: entries removed (with their chains), renamed, slots cleared.
  const removed = new Set();
  const freed = new Set();
  const renames = new Map();
  const freeable = new Set();
  const slotKey = (s) => `${s.sector}:${s.offset}`;
  for (const o of done) {
    const a = o.action;
    if (a.kind === 'delete') {
      const e = resolve(before, a.path);
      if (!e) {
        problems.push(`reported deleting ${a.path}, which the card did not hold`);
        continue;
      }
      for (const [k, x] of before.entries) {
        if (k !== keyOf(e.path) && !k.startsWith(`${keyOf(e.path)}/`)) continue;
        removed.add(k);
        x.chain.forEach((c) => freed.add(c));
        x.slots.forEach((s) => freeable.add(slotKey(s)));
      }
    } else if (a.kind === 'rename') {
      const e = resolve(before, a.from);
      if (!e) {
        problems.push(`reported renaming ${a.from}, which the card did not hold`);
        continue;
      }
      renames.set(keyOf(e.path), joinPath(e.dir, baseOf(a.to)));
      e.slots.forEach((s) => freeable.add(slotKey(s)));
    } else if (a.kind === 'clear-lfn') {
      a.slots.forEach((s) => freeable.add(slotKey(s)));
    }
  }
  const targets = new Set([...renames.values()].map(keyOf));
  const newSlots = new Set();
  for (const t of targets) after.entries.get(t)?.slots.forEach((s) => newSlots.add(slotKey(s)));

  // Entry by entry, both readings.
  for (const [k, b] of before.entries) {
    if (removed.has(k)) {
      if (after.entries.has(k) && !targets.has(k)) problems.push(`${b.path}: reported deleted, still there`);
      continue;
    }
    if (renames.has(k)) {
      const to = renames.get(k);
      const a = after.entries.get(keyOf(to));
      if (!a) {
        problems.push(`${b.path}: reported renamed to ${to}, which is not there`);
        continue;
      }
      const d = [...rawDifferences(b, a, { renamed: true }), ...mtoolsDifferences(before, after, k, { renamedTo: keyOf(to), ignoreArchive: true })];
      if (a.name !== baseOf(to)) d.push(`named "${a.name}"`);
      if (d.length) problems.push(`${b.path} renamed to ${to}: ${d.join('; ')}`);
      if (keyOf(to) !== k && after.entries.has(k)) problems.push(`${b.path}: still there after the reported rename`);
      continue;
    }
    const a = after.entries.get(k);
    if (!a) {
      problems.push(`${b.path}: gone without a reported fix`);
      continue;
    }
    const d = [...rawDifferences(b, a), ...(b.isLabel ? [] : mtoolsDifferences(before, after, k))];
    if (d.length) problems.push(`${b.path}: changed without a reported fix: ${d.join('; ')}`);
  }
  for (const [k, a] of after.entries) if (!before.entries.has(k) && !targets.has(k)) problems.push(`${a.path}: appeared`);
  for (const [k, m] of before.mt.attrs) if (!before.entries.has(k) && !after.mt.attrs.has(k)) problems.push(`${m.path} (mtools): gone`);
  for (const [k, m] of after.mt.attrs) if (!before.mt.attrs.has(k) && !after.entries.has(k) && !targets.has(k)) problems.push(`${m.path} (mtools): appeared`);

  // Sector by sector: only FAT entries of freed chains or new directory clusters, directory slots
  // of the reported entries, and (FAT32) FSInfo may differ.
  const g = before.geometry;
  const dirClusters = (t) => new Set([...t.dirs.values()].flatMap((d) => d.clusters));
  const dirsBefore = dirClusters(before);
  const dirsAfter = dirClusters(after);
  const newDirClusters = new Set([...dirsAfter].filter((c) => !dirsBefore.has(c)));
  const owner = new Map();
  for (const e of before.entries.values()) for (const c of e.chain) owner.set(c, e.path);
  const fatBytes = g.fatType === 'FAT32' ? 4 : 2;
  const fatEnd = g.reservedSectors + g.fatCount * g.sectorsPerFat;
  const sectorProblems = [];
  for (let s = 0; s * 512 < bytesBefore.length; s++) {
    const from = s * 512;
    if (bytesBefore.compare(bytesAfter, from, from + 512, from, from + 512) === 0) continue;
    const ob = bytesBefore.subarray(from, from + 512);
    const nb = bytesAfter.subarray(from, from + 512);
    const v = s - g.start;
    if (v < 0 || v >= g.sectors) sectorProblems.push(`sector ${s}, outside the volume (partition table or beyond), changed`);
    else if (v === 0 || v === g.backupBootSector) sectorProblems.push(`the boot sector${v ? ' backup' : ''} changed (bytes ${[...ob.keys()].filter((i) => ob[i] !== nb[i]).slice(0, 8).join(', ')})`);
    else if (v === g.fsInfoSector) {
      if (!done.length) sectorProblems.push('FSInfo written although nothing was fixed');
    } else if (v < g.reservedSectors) sectorProblems.push(`reserved sector ${v} changed`);
    else if (v < fatEnd) {
      const rel = (v - g.reservedSectors) % g.sectorsPerFat;
      for (let i = 0; i < 512; i += fatBytes) {
        const ov = fatBytes === 4 ? ob.readUInt32LE(i) : ob.readUInt16LE(i);
        const nv = fatBytes === 4 ? nb.readUInt32LE(i) : nb.readUInt16LE(i);
        if (ov === nv) continue;
        const c = (rel * 512 + i) / fatBytes;
        if ((freed.has(c) && nv === 0) || newDirClusters.has(c)) continue;
        // A directory that grew (new long-name entries of a renamed file): its old last cluster
        // now links to the new one.
        if (dirsBefore.has(c) && newDirClusters.has(fatBytes === 4 ? nv & 0x0fffffff : nv)) continue;
        sectorProblems.push(`FAT entry ${c}${owner.has(c) ? ` (${owner.get(c)})` : ''} changed from 0x${ov.toString(16)} to 0x${nv.toString(16)} without a reported fix`);
      }
    } else {
      const cluster = v >= g.dataStart ? Math.floor((v - g.dataStart) / g.sectorsPerCluster) + 2 : null;
      if (cluster !== null && newDirClusters.has(cluster)) continue;
      if (cluster !== null && !dirsBefore.has(cluster)) {
        sectorProblems.push(`data sector ${v} (cluster ${cluster}${owner.has(cluster) ? `, ${owner.get(cluster)}` : ''}) changed`);
        continue;
      }
      for (let i = 0; i < 512; i += 32) {
        const os = ob.subarray(i, i + 32);
        const ns = nb.subarray(i, i + 32);
        if (os.equals(ns)) continue;
        const k = `${v}:${i}`;
        if (freeable.has(k) && ns[0] === 0xe5 && os.subarray(1).equals(ns.subarray(1))) continue;
        if (newSlots.has(k)) continue;
        sectorProblems.push(`directory slot at sector ${v} offset ${i} changed without a reported fix: "${printable(os)}" → "${printable(ns)}"`);
      }
    }
  }
  problems.push(...sectorProblems.slice(0, 12));
  if (sectorProblems.length > 12) problems.push(`(and ${sectorProblems.length - 12} more sector differences)`);

  // A fix reported done must be gone from the verdict after it.
  for (const o of done) {
    if ((doc.findings ?? []).some((f) => f.id === o.id && (f.fix ?? []).some((a) => same(a, o.action)))) problems.push(`reported fixed, still found: ${o.id}: ${describeAction(o.action)}`);
  }
  return { problems, done: done.map((o) => o.action.kind) };
}

/**
 * fsck.fat's complaints about a volume, without the lines that change with any write (counts,
 * the header): what is new after --fix is damage --fix did.
 */
export function fsckComplaints(output) {
  return output.split('\n').map((l) => l.trim()).filter((l) => l && !/^fsck\.fat \d|^Checking|files?, \d+\/\d+ clusters|^Leaving file ?system unchanged|^\S+: \d+ files|^Starting check|^Reclaimed|^Performing changes/.test(l));
}

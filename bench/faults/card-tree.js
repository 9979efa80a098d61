// What is on a FAT card image, entry by entry, read twice: by mtools (the independent judge:
// mattrib for attributes, mdir for names, sizes and times, mcopy for the bytes) and by fwcard's
// own raw reader (src/fat/inspect), which also gives each entry's 32-byte directory slots, their
// addresses and the cluster chains. Two readings of the same card can then be compared entry by
// entry, to prove that a run left alone every file it had no business with.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

export const sha = (b) => createHash('sha256').update(b).digest('hex');

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

/** Run an mtools command on the volume at byte `offset` of `img`. */
export function mtools(cmd, img, offset, args, input) {
  const r = spawnSync(cmd, ['-i', `${img}@@${offset}`, ...args], { encoding: 'utf8', env: MTOOLS_ENV, input, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Like `mtools`, but a failure is an error of the campaign itself (used when building cards). */
export function mtoolsOk(cmd, img, offset, args) {
  const r = mtools(cmd, img, offset, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** First partition of an image per sfdisk, in sectors (the whole file for a superfloppy). */
export function volumeAt(img) {
  const r = spawnSync('sfdisk', ['--json', img], { encoding: 'utf8' });
  if (r.status === 0) {
    const p = JSON.parse(r.stdout).partitiontable.partitions?.[0];
    if (p) return { start: p.start, sectors: p.size };
  }
  return { start: 0, sectors: Math.floor(statSync(img).size / 512) };
}

/** Entries are keyed by their path in lower case: FAT names are case-insensitive. */
export const keyOf = (path) => path.toLowerCase();
export const joinPath = (dir, name) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
export const dirOf = (path) => path.slice(0, path.lastIndexOf('/')) || '/';
export const baseOf = (path) => path.slice(path.lastIndexOf('/') + 1);

/**
 * The raw reading: every entry below the root (volume label included, as "/:label"), with its
 * slots and their bytes, its chain and the SHA-256 of its bytes; every directory's clusters.
 */
async function rawTree(img, at, { inspect, image }) {
  const dev = image.openImageFile(img, { readOnly: true });
  try {
    const insp = await inspect.FatInspector.open(dev, at.start, at.sectors);
    if (!(insp instanceof inspect.FatInspector)) return { geometry: null, entries: new Map(), dirs: new Map(), problems: [`the volume is ${insp.kind}, not FAT`] };
    const b = insp.boot;
    const sectorCache = new Map();
    const slotBytes = async (s) => {
      if (!sectorCache.has(s.sector)) sectorCache.set(s.sector, await insp.reader.read(s.sector, 1));
      return Buffer.from(sectorCache.get(s.sector).subarray(s.offset, s.offset + 32));
    };
    const entries = new Map();
    const dirs = new Map();
    const problems = [];
    const walk = async (cluster, path, depth) => {
      const d = await insp.readDirectory(cluster, path);
      if (d.chainProblem) problems.push(`${path}: ${d.chainProblem}`);
      dirs.set(keyOf(path), { path, clusters: d.clusters, orphans: d.orphans });
      for (const e of d.entries) {
        if (e.shortName === '.' || e.shortName === '..') continue;
        const path1 = e.isVolumeLabel ? '/:label' : joinPath(path, e.name);
        const slots = [];
        for (const s of e.slots) slots.push(await slotBytes(s));
        const rec = {
          path: path1, dir: path, name: e.name, shortName: e.shortName, attr: e.attr, isDir: e.isDir, isLabel: e.isVolumeLabel,
          size: e.size, firstCluster: e.firstCluster, slots: e.slots, raw: Buffer.concat(slots), chain: [], sha: null,
        };
        entries.set(keyOf(path1), rec);
        if (e.isDir) {
          if (depth < 8 && e.firstCluster) rec.chain = (await walk(e.firstCluster, path1, depth + 1)).clusters;
        } else if (!e.isVolumeLabel) {
          const f = await insp.readFile(e);
          rec.sha = sha(f.data);
          rec.chain = f.chain.clusters;
        }
      }
      return d;
    };
    await walk(0, '/', 0);
    const geometry = {
      start: at.start, sectors: at.sectors, fatType: b.fatType, reservedSectors: b.reservedSectors, fatCount: b.fatCount, sectorsPerFat: b.sectorsPerFat,
      rootDirStart: b.rootDirStart, dataStart: b.dataStart, sectorsPerCluster: b.sectorsPerCluster, clusterBytes: b.clusterBytes, clusterCount: b.clusterCount,
      fsInfoSector: b.fat32?.fsInfoSector ?? null, backupBootSector: b.fat32?.backupBootSector ?? null,
    };
    return { geometry, entries, dirs, problems };
  } finally {
    await dev.close();
  }
}

/** One line of `mdir`: "NAME     EXT    size date  time  long name" → the name it shows. */
function mdirName(line) {
  const m = /^(.{8}) (.{3})\s+(?:<DIR>|\d+)\s+\d{4}-\d\d-\d\d\s+\d?\d:\d\d\s?(.*)$/.exec(line);
  if (!m) return null;
  if (m[3].trim()) return m[3].trim();
  const base = m[1].trimEnd();
  const ext = m[2].trimEnd();
  return ext ? `${base}.${ext}` : base;
}

function hostFiles(dir, rel, out) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    const r = rel === '/' ? `/${n}` : `${rel}/${n}`;
    if (lstatSync(p).isDirectory()) hostFiles(p, r, out);
    else out.set(keyOf(r), sha(readFileSync(p)));
  }
  return out;
}

/** The mtools reading: attributes (mattrib -/), the mdir line of every entry, and every file's bytes (mcopy -s). */
function mtoolsTree(img, offset, scratch) {
  const attrs = new Map();
  for (const line of mtools('mattrib', img, offset, ['-/', '::']).stdout.split('\n')) {
    const at = line.indexOf('::/');
    if (at < 0 || line.slice(at + 2) === '/') continue;
    const path = line.slice(at + 2);
    attrs.set(keyOf(path), { path, attrs: line.slice(0, at).replace(/\s+/g, '') });
  }
  const lines = new Map();
  const header = [];
  let dir = null;
  for (const line of mtools('mdir', img, offset, ['-/', '-a', '::']).stdout.split('\n')) {
    const d = /^Directory for ::(.*)$/.exec(line);
    if (d) {
      dir = d[1] || '/';
      continue;
    }
    if (/^ Volume /.test(line)) header.push(line.trimEnd());
    if (dir === null) continue;
    const name = mdirName(line);
    if (name && name !== '.' && name !== '..') lines.set(keyOf(joinPath(dir, name)), line.trimEnd());
  }
  const to = mkdtempSync(join(scratch, 'mcopy-'));
  try {
    const r = mtools('mcopy', img, offset, ['-s', '-n', '-m', '::*', to]);
    return { attrs, lines, header, files: hostFiles(to, '/', new Map()), copyErrors: r.status === 0 ? '' : r.stderr.trim() };
  } finally {
    rmSync(to, { recursive: true, force: true });
  }
}

/**
 * Both readings of the card image `img` (its first partition). `mods` are fwcard's built
 * modules { inspect: dist/fat/inspect/index.js, image: dist/disk/image-file.js }.
 */
export async function readTree(img, { mods, scratch }) {
  const at = volumeAt(img);
  const raw = await rawTree(img, at, mods);
  return { at, ...raw, mt: mtoolsTree(img, at.start * 512, scratch) };
}

export function describeAttr(a) {
  return [[0x01, 'R'], [0x02, 'H'], [0x04, 'S'], [0x08, 'V'], [0x10, 'D'], [0x20, 'A']].map(([bit, c]) => (a & bit ? c : '')).join('') || '-';
}

/**
 * How entry `b` (before) and `a` (after) differ, by the raw reader: attributes, size, bytes,
 * first cluster, slot addresses, slot bytes. `opts.renamed`: only what a rename may not change
 * (the bytes, the cluster, the size, the times; FatFs sets the archive bit of a renamed file).
 */
export function rawDifferences(b, a, opts = {}) {
  const out = [];
  const attrMask = opts.renamed && !b.isDir ? ~0x20 : ~0;
  if ((b.attr & attrMask) !== (a.attr & attrMask)) out.push(`attributes ${describeAttr(b.attr)} → ${describeAttr(a.attr)}`);
  if (b.size !== a.size) out.push(`size ${b.size} → ${a.size}`);
  if (b.sha !== a.sha) out.push(`bytes changed (sha ${String(b.sha).slice(0, 10)} → ${String(a.sha).slice(0, 10)})`);
  if (b.firstCluster !== a.firstCluster) out.push(`first cluster ${b.firstCluster} → ${a.firstCluster}`);
  if (opts.renamed) {
    // 8.3 slot bytes 13-31: creation time, access date, cluster, write time, size.
    const sb = b.raw.subarray(b.raw.length - 19);
    const sa = a.raw.subarray(a.raw.length - 19);
    if (!sb.equals(sa)) out.push('times or size in the directory entry changed');
  } else {
    if (JSON.stringify(b.slots) !== JSON.stringify(a.slots)) out.push('directory entry moved');
    else if (!b.raw.equals(a.raw)) out.push(`directory entry bytes changed (${b.raw.toString('hex').slice(-64)} → ${a.raw.toString('hex').slice(-64)})`);
  }
  return out;
}

/** How the mtools view of a path differs: attributes, the mdir line, the bytes. */
export function mtoolsDifferences(before, after, k, { renamedTo, ignoreArchive } = {}) {
  const out = [];
  const k2 = renamedTo ?? k;
  const strip = (s) => (ignoreArchive ? s?.replace('A', '') : s);
  if (strip(before.mt.attrs.get(k)?.attrs) !== strip(after.mt.attrs.get(k2)?.attrs)) out.push(`mattrib ${before.mt.attrs.get(k)?.attrs || '-'} → ${after.mt.attrs.get(k2)?.attrs ?? 'gone'}`);
  if (!renamedTo && before.mt.lines.get(k) !== after.mt.lines.get(k2)) out.push(`mdir "${before.mt.lines.get(k)}" → "${after.mt.lines.get(k2) ?? 'gone'}"`);
  if (before.mt.files.get(k) !== after.mt.files.get(k2)) out.push('mcopy reads other bytes');
  return out;
}

/**
 * Every entry of `before` that `keep(path)` selects must be in `after` unchanged, by both
 * readings, and no entry `keep` selects may appear. Returns one problem per entry.
 */
export function compareKept(before, after, keep) {
  const problems = [];
  for (const [k, b] of before.entries) {
    if (!keep(b.path)) continue;
    const a = after.entries.get(k);
    if (!a) {
      problems.push(`${b.path}: gone`);
      continue;
    }
    const d = rawDifferences(b, a);
    if (!b.isLabel) d.push(...mtoolsDifferences(before, after, k));
    if (d.length) problems.push(`${b.path}: ${d.join('; ')}`);
  }
  for (const [k, a] of after.entries) if (keep(a.path) && !before.entries.has(k)) problems.push(`${a.path}: appeared`);
  // mtools alone: a path the raw reader might not see (deeper than it walks, or misread).
  for (const [k, m] of before.mt.attrs) if (keep(m.path) && !before.entries.has(k) && mtoolsDifferences(before, after, k).length) problems.push(`${m.path} (mtools): ${mtoolsDifferences(before, after, k).join('; ')}`);
  for (const [k, m] of after.mt.attrs) if (keep(m.path) && !before.mt.attrs.has(k) && !after.entries.has(k)) problems.push(`${m.path} (mtools): appeared`);
  if (before.mt.header.join('\n') !== after.mt.header.join('\n')) problems.push(`volume label or serial: ${before.mt.header.join(' ')} → ${after.mt.header.join(' ')}`);
  return problems;
}

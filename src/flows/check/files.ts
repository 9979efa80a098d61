import type { Board } from '../../boards/types.js';
import { ATTR_HIDDEN, ATTR_READ_ONLY, ATTR_SYSTEM, clusterRuns, isShortName, type DirEntry, type DirectoryRead, type FatInspector } from '../../fat/inspect/index.js';
import { boardConversion, convertForBoard, inspectFirmware } from '../../firmware/index.js';
import { formatBytes } from '../../util/size.js';
import { MAX_FIRMWARE_BYTES, sha256 } from '../firmware-file.js';
import { advice } from '../../errors.js';
import { fixRemedy, prepareRemedy, tool, type HintContext } from './hints.js';
import { isAppleDouble, MACOS_METADATA, nameMatch, nearMiss, sameName, visibleName } from './names.js';
import { unknownRule } from './rules.js';
import type { CheckFinding, FileFacts, FilesFacts, FirmwareFacts } from './types.js';

/** dosfstools' repair of a damaged directory entry. */
const FSCK = tool(['fsck.fat'], 'checks and repairs the FAT file system');

/** Cross-link check: clusters walked per other file, and in all. Keeps the check cheap on big cards. */
const XLINK_PER_FILE = 1024;
const XLINK_TOTAL = 16384;

export interface GivenFirmware {
  path: string;
  bytes: Uint8Array;
}

function attrs(e: DirEntry): string[] {
  const a: string[] = [];
  if (e.attr & ATTR_READ_ONLY) a.push('read-only');
  if (e.attr & ATTR_HIDDEN) a.push('hidden');
  if (e.attr & ATTR_SYSTEM) a.push('system');
  if (e.isDir) a.push('directory');
  return a;
}

const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

function factsOf(e: DirEntry, dir: string): FileFacts {
  return { path: join(dir, e.name), name: e.name, shortName: e.shortName, longName: e.longName, size: e.size, isDir: e.isDir, attributes: attrs(e) };
}

const realEntries = (d: DirectoryRead): DirEntry[] => d.entries.filter((e) => !e.isVolumeLabel && e.shortName !== '.' && e.shortName !== '..');

export async function analyseFiles(insp: FatInspector, ctx: HintContext, given: GivenFirmware | null): Promise<{ files: FilesFacts; findings: CheckFinding[] }> {
  const rules = ctx.rules;
  const findings: CheckFinding[] = [];
  const add = (f: CheckFinding): void => {
    findings.push(f);
  };
  const wanted = rules.firmwareName;
  const pattern = wanted.startsWith('*');
  const rewrite = prepareRemedy(ctx, { noFormat: true });

  const root = await insp.readDirectory(0, '/');
  if (root.chainProblem) add({ id: 'root-directory-damaged', severity: 'error', message: `the root directory is damaged: ${root.chainProblem}`, ...advice`Re-create the card (this erases it): ${prepareRemedy(ctx)}` });
  const dirs: DirectoryRead[] = [root];

  // The board's folder ("" = root), one level at a time.
  let dir: DirectoryRead | null = root;
  let dirPath = '/';
  for (const part of rules.folder.split('/').filter(Boolean)) {
    const sub: DirEntry | undefined = realEntries(dir!).find((e) => e.isDir && (sameName(e.name, part) || sameName(e.shortName, part)));
    if (!sub) {
      dir = null;
      break;
    }
    dirPath = join(dirPath, part);
    dir = await insp.readDirectory(sub.firstCluster, dirPath);
    dirs.push(dir);
    if (dir.chainProblem) add({ id: 'folder-damaged', severity: 'error', message: `the folder ${dirPath} is damaged: ${dir.chainProblem}`, ...advice`Re-create the card (this erases it): ${prepareRemedy(ctx)}` });
  }
  const folderPath = rules.folder ? `/${rules.folder}` : '/';
  const files: FilesFacts = { folder: folderPath, expected: wanted, firmware: null, candidates: [], renamed: [], junk: [], entries: [] };
  for (const d of dirs) for (const e of realEntries(d)) files.entries.push(factsOf(e, d.path));

  // Junk: AppleDouble files beside anything, macOS metadata in the root, Windows' folder.
  const appleDouble: { e: DirEntry; dir: string }[] = [];
  for (const d of dirs) for (const e of realEntries(d)) if (!e.isDir && isAppleDouble(e.name)) appleDouble.push({ e, dir: d.path });
  if (appleDouble.length) {
    files.junk.push(...appleDouble.map((x) => factsOf(x.e, x.dir)));
    const bins = appleDouble.filter((x) => /\.bin$/i.test(x.e.name));
    add({
      id: 'appledouble-files',
      severity: 'warning',
      message: `macOS AppleDouble file${appleDouble.length > 1 ? 's' : ''} ${appleDouble.map((x) => join(x.dir, x.e.name)).join(', ')}${bins.length ? ': a bootloader may take the ._*.bin as a second firmware file' : ''}`,
      ...advice`Remove them: ${fixRemedy(ctx)} (or ${tool(['dot_clean'], 'merges or removes the ._ files (macOS)')} on the Mac).`,
      fix: appleDouble.map((x) => ({ kind: 'delete' as const, path: join(x.dir, x.e.name), shortPath: join(x.dir, x.e.shortName), isDir: false })),
    });
  }
  const meta = realEntries(root).filter((e) => MACOS_METADATA.some((m) => sameName(m, e.name)));
  if (meta.length) {
    files.junk.push(...meta.map((e) => factsOf(e, '/')));
    add({ id: 'macos-metadata', severity: 'warning', message: `macOS metadata on the card: ${meta.map((e) => e.name).join(', ')}; some bootloaders stall on them`, ...advice`Remove them: ${fixRemedy(ctx)}.`, fix: meta.map((e) => ({ kind: 'delete' as const, path: join('/', e.name), shortPath: join('/', e.shortName), isDir: e.isDir })) });
  }
  const svi = realEntries(root).find((e) => e.isDir && sameName(e.name, 'System Volume Information'));
  if (svi) add({ id: 'windows-system-folder', severity: 'info', message: '"System Volume Information" (made by Windows) is on the card; bootloaders ignore it', hint: '' });

  // Orphaned long names and other broken entries.
  for (const d of dirs) {
    for (const o of d.orphans) {
      const what = o.problem === 'deleted-short-entry' ? 'left behind by a deleted file' : o.problem === 'checksum' ? `whose checksum does not match the 8.3 entry ${o.shortName} after it (its 8.3 name was changed without it)` : o.problem === 'before-volume-label' ? 'in front of the volume label' : 'with a broken sequence';
      const id = o.problem === 'deleted-short-entry' ? 'lfn-deleted-entry-left' : 'lfn-orphaned';
      const also = !pattern && o.problem === 'checksum' && sameName(o.text, wanted) ? ` — a bootloader renamed ${wanted}'s 8.3 entry and left its long name, so PC tools may show a stale "${wanted}"` : '';
      add({ id, severity: 'warning', message: `orphaned long file name "${o.text}" in ${d.path} ${what}${also}`, ...advice`Clear it: ${fixRemedy(ctx)} (fsck.fat reports it as "Orphaned long file name part").`, fix: [{ kind: 'clear-lfn', dirPath: d.path, text: o.text, slots: o.slots }] });
    }
    for (const bad of d.invalid) add({ id: 'directory-entry-invalid', severity: 'warning', message: `the entry "${bad.name}" in ${d.path} is damaged: ${bad.reason}`, ...advice`Copy your files off the card and re-create it; ${FSCK} can repair it too.` });
  }

  if (!dir) {
    const inRoot = !pattern && realEntries(root).find((e) => !e.isDir && (nameMatch(e, wanted).long || nameMatch(e, wanted).short));
    add({
      id: inRoot ? 'firmware-wrong-folder' : 'folder-missing',
      severity: 'error',
      basis: 'board',
      message: `${rules.boardName}'s bootloader looks in the folder ${folderPath}, which is not on the card${inRoot ? `; ${inRoot.name} is in the root instead` : ''}`,
      ...advice`Write the firmware where the board looks: ${rewrite}`,
    });
    return { files, findings };
  }
  const here = realEntries(dir).filter((e) => !e.isDir);

  // The firmware file.
  let fw: DirEntry | null = null;
  if (pattern) {
    const ext = wanted.slice(1).toLowerCase();
    const cands = here.filter((e) => e.name.toLowerCase().endsWith(ext) || e.shortName.toLowerCase().endsWith(ext));
    files.candidates = cands.map((e) => factsOf(e, dir!.path));
    const real = cands.filter((e) => !isAppleDouble(e.name));
    fw = real[0] ?? null;
    if (cands.length > 1) {
      add({ id: 'several-firmware-candidates', severity: 'warning', basis: 'board', message: `${rules.boardName} flashes any ${wanted} file, and ${folderPath} has ${cands.length}: ${cands.map((e) => e.name).join(', ')}; which one it takes is not defined`, ...(appleDouble.length ? advice`Leave one ${wanted} file: delete the others (${fixRemedy(ctx)} removes the ._ files).` : advice`Leave one ${wanted} file: delete the others.`) });
    }
    if (rules.uniqueName) add({ id: 'unique-name-required', severity: 'info', basis: 'board', message: `${rules.boardName} ignores a file whose name it flashed before; check cannot know the last name it took`, ...advice`${rewrite} picks a fresh name each time.` });
    if (fw && !isShortName(fw.name) && rules.readsLongNames !== true) {
      add({ id: 'firmware-name-not-8-3', severity: 'warning', basis: rules.readsLongNames === false ? 'board' : 'generic', message: `"${fw.name}" is not an 8.3 name; a bootloader without long-name support sees it as ${fw.shortName}${rules.readsLongNames === false ? '' : ` (${unknownRule(rules, 'whether long names are read')}; Sovol and Creality users report names over 8 characters being ignored)`}`, ...advice`Use a name of at most 8 characters before .bin: ${rewrite} does.` });
    }
  } else {
    const matches = here.filter((e) => nameMatch(e, wanted).long || nameMatch(e, wanted).short);
    files.candidates = matches.map((e) => factsOf(e, dir!.path));
    fw = matches[0] ?? null;
    if (fw) {
      const m = nameMatch(fw, wanted);
      const fixTo = join(dir.path, wanted);
      if (rules.readsLongNames === false && !m.short) {
        add({ id: 'firmware-name-long-only', severity: 'error', basis: 'board', message: `"${wanted}" is only the long name of ${fw.shortName}; ${rules.boardName}'s bootloader reads 8.3 names and sees ${fw.shortName}`, ...advice`Rename it: ${fixRemedy(ctx)}.`, fix: [{ kind: 'rename', from: join(dir.path, fw.name), fromShort: join(dir.path, fw.shortName), to: fixTo }] });
      } else {
        const seen = visibleName(fw, rules.readsLongNames);
        if (seen !== wanted && rules.caseSensitive !== false) {
          const known = rules.caseSensitive === true;
          add({ id: 'firmware-name-case', severity: known ? 'error' : 'warning', basis: known ? 'board' : 'generic', message: `the file is named "${seen}"; ${rules.boardName}'s bootloader looks for "${wanted}"${known ? ' and compares case' : ` (${unknownRule(rules, 'whether case matters')})`}`, ...advice`Rename it: ${fixRemedy(ctx)}.`, fix: [{ kind: 'rename', from: join(dir.path, fw.name), fromShort: join(dir.path, fw.shortName), to: fixTo }] });
        }
      }
    } else {
      const misses = here.map((e) => ({ e, how: nearMiss(e.name, wanted) })).filter((x) => x.how !== null);
      if (misses.length === 1) {
        const x = misses[0]!;
        add({ id: 'firmware-name-near-miss', severity: 'error', message: `no ${wanted}, but "${x.e.name}" (${x.how}): the bootloader looks for the exact name "${wanted}"`, ...advice`Rename it: ${fixRemedy(ctx)}.`, fix: [{ kind: 'rename', from: join(dir.path, x.e.name), fromShort: join(dir.path, x.e.shortName), to: join(dir.path, wanted) }] });
        files.candidates = [factsOf(x.e, dir.path)];
      } else if (misses.length > 1) {
        add({ id: 'firmware-name-near-miss', severity: 'error', message: `no ${wanted}, but ${misses.length} near misses: ${misses.map((x) => `"${x.e.name}"`).join(', ')}; the bootloader looks for the exact name "${wanted}"`, ...advice`Delete all but the right one and rename it to ${wanted}, or write it again: ${rewrite}` });
        files.candidates = misses.map((x) => factsOf(x.e, dir!.path));
      }
    }
  }

  // The name the bootloader leaves after flashing: proof a previous flash worked.
  for (const after of rules.afterFlash) {
    const r = here.find((e) => nameMatch(e, after).long || nameMatch(e, after).short || sameName(e.name, after));
    if (r) {
      files.renamed.push(factsOf(r, dir.path));
      add({ id: 'firmware-previously-flashed', severity: 'info', message: `${r.name} is on the card: the bootloader renamed a firmware file after flashing it, so a previous flash from this card worked`, hint: '' });
    }
  }

  if (!fw) {
    if (!findings.some((f) => f.id === 'firmware-name-near-miss')) {
      const ad = pattern && files.candidates.length ? ` (only AppleDouble ${files.candidates.map((c) => c.name).join(', ')})` : '';
      add({ id: 'firmware-missing', severity: 'error', basis: rules.board ? 'board' : 'generic', message: `no ${wanted} in ${folderPath}${ad}: the bootloader has nothing to flash${files.renamed.length ? ` (${files.renamed[0]!.name} shows it already flashed the last one)` : ''}`, ...advice`Put the firmware on the card: ${rewrite}` });
    }
    return { files, findings };
  }
  const fwFacts = await firmwareChecks(insp, ctx, fw, dir, dirs, given, add);
  files.firmware = fwFacts;
  return { files, findings };
}

async function firmwareChecks(insp: FatInspector, ctx: HintContext, fw: DirEntry, dir: DirectoryRead, dirs: DirectoryRead[], given: GivenFirmware | null, add: (f: CheckFinding) => void): Promise<FirmwareFacts> {
  const rules = ctx.rules;
  const path = join(dir.path, fw.name);
  const rewrite = prepareRemedy(ctx, { noFormat: true });
  const facts: FirmwareFacts = { ...factsOf(fw, dir.path), clusters: 0, clustersNeeded: 0, contiguous: true, fragments: 0, chainEnd: 'eoc', sha256: null, matchesGiven: null };
  const bad = attrs(fw).filter((a) => a !== 'directory');
  if (bad.length) {
    add({ id: 'firmware-attributes', severity: 'warning', message: `${path} is ${bad.join(', ')}: ${fw.attr & ATTR_READ_ONLY ? 'the bootloader cannot rename or delete it after flashing, so it flashes again at every power-up' : 'some bootloaders skip hidden or system files'}`, ...advice`Write it again without those attributes: ${rewrite} (or ${tool(['mattrib', '-r', '-h', '-s'], 'clears the read-only, hidden and system attributes (mtools)')}).` });
  }
  if (fw.size === 0) {
    add({ id: 'firmware-empty', severity: 'error', message: `${path} is empty (0 bytes): the copy did not finish; a bootloader may "flash" it and rename it without installing anything`, ...advice`Write it again: ${rewrite}` });
    return facts;
  }
  if (fw.size > MAX_FIRMWARE_BYTES) {
    // Not read: no SD-bootloader MCU has that much flash, and reading it would not be cheap.
    add({ id: 'firmware-too-large', severity: 'error', message: `${path} is ${formatBytes(fw.size)}: larger than any SD-bootloader board's flash (${formatBytes(MAX_FIRMWARE_BYTES)}); this is not a firmware image`, ...advice`Put the firmware .bin on the card: ${rewrite}` });
    return facts;
  }
  const { data, chain, clustersNeeded } = await insp.readFile(fw);
  facts.clusters = chain.clusters.length;
  facts.clustersNeeded = clustersNeeded;
  facts.chainEnd = chain.end;
  const runs = clusterRuns(chain.clusters.slice(0, clustersNeeded));
  facts.fragments = runs.length;
  facts.contiguous = runs.length <= 1;
  const cb = insp.boot.clusterBytes;
  if (chain.end === 'loop') {
    add({ id: 'firmware-chain-loop', severity: 'error', message: `${path}: its cluster chain loops back on itself after ${chain.clusters.length} clusters`, ...advice`The file system is damaged: re-create the card: ${prepareRemedy(ctx)}` });
  } else if (chain.clusters.length < clustersNeeded) {
    const why = chain.end === 'eoc' ? 'ends' : chain.end === 'free' ? 'runs into a free cluster' : chain.end === 'bad' ? 'runs into a bad cluster' : 'points outside the volume';
    add({ id: 'firmware-chain-truncated', severity: 'error', message: `${path} says ${formatBytes(fw.size)} but its cluster chain ${why} after ${chain.clusters.length} of ${clustersNeeded} clusters (${formatBytes(chain.clusters.length * cb)}): the bootloader reads a truncated or garbled image`, ...advice`Write it again: ${rewrite}` });
  } else if (chain.clusters.length > clustersNeeded) {
    add({ id: 'firmware-chain-too-long', severity: 'warning', message: `${path}: its cluster chain is longer than its ${formatBytes(fw.size)} need (lost clusters attached)`, ...advice`Write it again: ${rewrite}` });
  } else if (chain.end !== 'eoc') {
    add({ id: 'firmware-chain-end-invalid', severity: 'warning', message: `${path}: its last cluster is marked ${chain.end} instead of end-of-chain`, ...advice`Write it again: ${rewrite}` });
  }
  const differ = await insp.fatCopiesDiffer(chain.clusters.length ? [0, ...chain.clusters] : []);
  if (differ.length) add({ id: 'fat-copies-differ', severity: 'warning', message: `the FAT copies disagree where ${path}'s chain is recorded (FAT sector${differ.length > 1 ? 's' : ''} ${differ.join(', ')}): the bootloader follows the first copy, PC tools may follow another`, ...advice`Write the firmware again: ${rewrite}` });
  if (runs.length > 1) add({ id: 'firmware-fragmented', severity: 'info', message: `${path} is in ${runs.length} fragments; bootloaders follow the chain, but a contiguous file is safer`, hint: '' });

  // Cross-links with every other file and directory that was read.
  const mine = new Set(chain.clusters.slice(0, clustersNeeded));
  let budget = XLINK_TOTAL;
  const shared: string[] = [];
  for (const d of dirs) {
    if (d.clusters.some((c) => mine.has(c))) shared.push(d.path === '/' ? 'the root directory' : d.path);
    for (const e of realEntries(d)) {
      if (e === fw || e.firstCluster === 0 || budget <= 0) continue;
      const limit = e.isDir ? 64 : Math.min(XLINK_PER_FILE, Math.ceil(e.size / cb) + 1, budget);
      const w = await insp.fat.walk(e.firstCluster, Math.max(1, limit));
      budget -= w.clusters.length;
      if (w.clusters.some((c) => mine.has(c))) shared.push(join(d.path, e.name));
    }
  }
  if (shared.length) add({ id: 'firmware-cross-linked', severity: 'error', message: `${path} shares clusters with ${shared.join(', ')}: one of them holds the other's data`, ...advice`The file system is damaged: re-create the card: ${prepareRemedy(ctx)}` });

  if (data.byteLength === fw.size && fw.size <= MAX_FIRMWARE_BYTES) {
    facts.sha256 = sha256(data);
    const chainOk = chain.clusters.length >= clustersNeeded && chain.end !== 'loop';
    if (chainOk) imageFindings(data, rules.board, fw.name, path, ctx, add);
    if (given) {
      const accepted = new Set([sha256(given.bytes)]);
      if (rules.board) accepted.add(sha256(convertForBoard(given.bytes, rules.board)));
      facts.matchesGiven = accepted.has(facts.sha256);
      if (facts.matchesGiven) add({ id: 'firmware-matches', severity: 'info', message: `${path} is byte-identical to ${given.path}${rules.board && boardConversion(rules.board) !== 'none' ? ` (after the ${boardConversion(rules.board)} conversion)` : ''}`, hint: '' });
      else add({ id: 'firmware-differs', severity: 'error', message: `${path} (${formatBytes(fw.size)}, sha256 ${facts.sha256.slice(0, 12)}…) is not ${given.path} (${formatBytes(given.bytes.byteLength)})${fw.size < given.bytes.byteLength ? ': a truncated copy?' : ''}`, ...advice`Write it again: ${rewrite}` });
    }
  } else if (given) {
    facts.matchesGiven = false;
    add({ id: 'firmware-differs', severity: 'error', message: `${path} could not be read in full, so it cannot match ${given.path}`, ...advice`Write it again: ${rewrite}` });
  }
  return facts;
}

/** What `inspectFirmware` says about the bytes on the card, under `image-` ids. */
function imageFindings(data: Uint8Array, board: Board | null, fileName: string, path: string, ctx: HintContext, add: (f: CheckFinding) => void): void {
  const report = inspectFirmware(data, board ? { board, fileName } : { fileName });
  for (const f of report.findings) {
    if (f.id === 'will-scramble' || f.id === 'will-encode') {
      // On a card there is no later step: the bootloader gets these bytes as they are.
      add({ id: 'firmware-not-converted', severity: 'error', basis: 'board', message: `${path} is a plain image, but ${board?.name}'s bootloader expects it ${f.id === 'will-scramble' ? 'MKS-scrambled' : 'Chitu-encoded (.cbd)'}`, ...advice`Write it with the conversion: ${prepareRemedy(ctx, { noFormat: true })}` });
      continue;
    }
    add({ id: `image-${f.id}`, severity: f.severity, message: `${path}: ${f.message}`, hint: f.hint, ...(f.remedy ? { remedy: f.remedy } : {}) });
  }
}

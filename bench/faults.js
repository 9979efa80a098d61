#!/usr/bin/env node
// Fault campaigns (issue 7): serial link faults, interruptions (SIGKILL, unplug, killed prepare
// on an image and on a loop device), emulated SD-card faults, MCU faults, a bad-input matrix for
// every command, and parsers under fuzzing. Each campaign is bounded in runs and in wall time and
// counts what happened; nothing here is hand-typed into the README.
//
// The invariant every run is judged by: what the board's bootloader would flash from the card
// (its file, read with our FAT reader the way src/sim/bootloader.ts finds it) is either what it
// was before the run or the complete new firmware; fsck.fat -n passes; a failure is a typed error
// with a hint, and running the same command again succeeds. And the host loses nothing: the
// cards of the flash-sdcard campaigns carry the user's files beside the firmware, which must be
// byte-identical with unchanged attributes after every run (mtools and our raw reader judge), as
// must the -f/-d files given; check --fix (bad-input campaign) changes only what it reports.
//
// Usage: node bench/faults.js [--json] [--quick] [--runs N] [--seed S] [--only name,name]
//   --runs N   runs per cell (per rate and link, per interruption kind, per fault kind, …)
//   --quick    a few runs per cell (about two minutes)
//   --budget F multiply every campaign's wall-time bound by F (default budgets: about 13 minutes)
//   --jobs N   run N campaigns at a time, each in its own process (results merged)
// The test suite (test/reliability) imports the campaign functions with small fixed budgets.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, cpSync, symlinkSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { seedBystanders, hostState, compareHost } from './faults/bystanders.js';
import { baseOf, compareKept, dirOf, readTree } from './faults/card-tree.js';
import { FIX_BOARDS, fsckComplaints, judgeFix, plantDefects } from './faults/check-fix.js';
import { prng } from '../dist/util/prng.js';
import { loadSynth } from '../fixtures/load-synth.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Where bin/ and dist/ are taken from: the tree, or (npm run faults) a private copy made at the
// start, so that a rebuild by someone else during a long run cannot mix two builds.
let app = root;
let cli = join(app, 'bin', 'fwcard.js');
const dist = (p) => import(pathToFileURL(join(app, 'dist', p)).href);

function snapshotApp(scratch) {
  const to = join(scratch, 'app');
  mkdirSync(to, { recursive: true });
  for (const d of ['bin', 'dist']) cpSync(join(root, d), join(to, d), { recursive: true });
  cpSync(join(root, 'package.json'), join(to, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(to, 'node_modules'));
  app = to;
  cli = join(app, 'bin', 'fwcard.js');
}

const BOARD = 'btt-skr-v1.3'; // LPC1768, hardware SPI, bootloader renames firmware.bin to FIRMWARE.CUR
const PART_START = 2048;

/* ------------------------------------------------------------------ small tools */

/** Every random choice of a campaign comes from its seed: the project's Mulberry32 (src/util/prng.ts). */
export function rng(seed) {
  return prng(seed);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha = (b) => createHash('sha256').update(b).digest('hex');

export function counts(name) {
  // judged: how many times the host-loses-nothing judges ran (cards read, host directories compared).
  // undo: interruptions after which fsck.fat found an update half-written, and how many of those
  // the re-run undid from the host's record (src/fat/update-log.ts).
  return { name, runs: 0, verified: 0, failedClean: 0, silentCorruption: 0, invariantViolations: 0, fsckFailures: 0, hangs: 0, parts: {}, problems: [], judged: { cards: 0, hosts: 0 }, undo: { halfWritten: 0, undone: 0 } };
}

function partOf(c, part) {
  return (c.parts[part] ??= { runs: 0, verified: 0, failedClean: 0, silentCorruption: 0, invariantViolations: 0, fsckFailures: 0, hangs: 0 });
}

/** One more run of `part`. */
function begin(c, part) {
  c.runs++;
  partOf(c, part).runs++;
}

function note(c, part, field, problem) {
  c[field]++;
  if (part) partOf(c, part)[field]++;
  if (problem && c.problems.length < 50) c.problems.push(`${part ?? c.name}: ${problem}`);
}

/** A 32 MiB card made by the native tools: MBR by sfdisk, FAT16 (or FAT32, 512-byte clusters) by mkfs.fat at sector 2048. */
export function makeCardImage(path, sizeMiB = 32, fat = 16) {
  writeFileSync(path, '');
  truncateSync(path, sizeMiB * 1024 * 1024);
  spawnSync('sfdisk', ['-q', path], { input: `label: dos\nstart=${PART_START}, type=${fat === 32 ? 'c' : 'e'}\n` });
  spawnSync('mkfs.fat', ['-F', String(fat), ...(fat === 32 ? ['-s', '1'] : []), '-h', String(PART_START), `--offset=${PART_START}`, path, String((sizeMiB * 2048 - PART_START) / 2)], { stdio: 'ignore' });
}

/** First partition of an image per sfdisk (or the whole file for a superfloppy). */
function firstPartition(img) {
  const r = spawnSync('sfdisk', ['--json', img], { encoding: 'utf8' });
  if (r.status === 0) {
    const p = JSON.parse(r.stdout).partitiontable.partitions?.[0];
    if (p) return { offset: p.start * 512, size: p.size * 512 };
  }
  return { offset: 0, size: statSync(img).size };
}

/**
 * fsck.fat -n on the volume of an image (copied out of the image: fsck.fat takes no offset, and
 * a copy needs no loop device). Exit 0 and no complaint is clean.
 */
export function fsckImage(img, scratch) {
  const { offset, size } = firstPartition(img);
  const copy = join(scratch, `fsck-${process.pid}.vol`);
  const fd = openSync(img, 'r');
  const out = openSync(copy, 'w');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (let at = 0; at < size; at += buf.length) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), offset + at);
      if (n <= 0) break;
      writeSync(out, buf, 0, n, at);
    }
  } finally {
    closeSync(fd);
    closeSync(out);
  }
  const r = spawnSync('fsck.fat', ['-n', copy], { encoding: 'utf8' });
  rmSync(copy, { force: true });
  const text = `${r.stdout}${r.stderr}`;
  return { ok: r.status === 0 && !/orphan|wrong|invalid|differ|dirty|error/i.test(text.replace(/^fsck\.fat.*\n/m, '').replace(/Checking.*\n/g, '')), output: text };
}

let mods;
async function load() {
  mods ??= {
    errors: await dist('errors.js'),
    // Inspection from the build under test; the synthetic firmware generator from fixtures/synth/.
    firmware: { ...(await dist('firmware/index.js')), ...(await loadSynth()) },
    sim: await dist('sim/simulator.js'),
    boot: await dist('sim/bootloader.js'),
    profile: { ...(await dist('sim/mcu-profile.js')), ...(await dist('sim/sim-dictionary.js')) },
    card: await dist('sim/sd-card/emulated-card.js'),
    image: await dist('disk/image-file.js'),
    fat: await dist('fat/fat-volume.js'),
    inspect: await dist('fat/inspect/index.js'),
    flash: await dist('flows/flash-sdcard/index.js'),
    catalog: await dist('boards/catalog.js'),
  };
  return mods;
}

/**
 * What the bootloader of `board` would flash from the card image now: the bytes of the file it
 * looks for (same matching as src/sim/bootloader.ts: name or short name, case-insensitive, "*.bin"
 * = any .bin), 'none' when there is no such file, 'unreadable' when the volume does not mount.
 */
export async function bootView(img, boardName = BOARD) {
  const m = await load();
  const board = m.catalog.loadCatalog().get(boardName);
  const spec = m.sim.boardBootloader(board);
  let dev;
  try {
    dev = m.image.openImageFile(img, { readOnly: true });
  } catch {
    // An empty or odd-sized image (prepare killed while re-creating it): no card to read.
    return { kind: 'unreadable' };
  }
  try {
    let vol;
    try {
      vol = await m.fat.FatVolume.mount(m.boot.fatVolumeDevice(dev));
    } catch {
      return { kind: 'unreadable' };
    }
    try {
      const dir = '/' + spec.folder.replace(/^\/+|\/+$/g, '');
      let entries;
      try {
        entries = vol.list(dir);
      } catch {
        return { kind: 'none' };
      }
      const p = spec.firmwareName.toLowerCase();
      const hit = entries.find((e) => !e.isDir && [e.name, e.shortName].filter(Boolean).map((n) => n.toLowerCase()).some((n) => (p.startsWith('*') ? n.endsWith(p.slice(1)) : n === p)));
      if (!hit) return { kind: 'none' };
      return { kind: 'file', name: hit.name, bytes: vol.readFile((dir === '/' ? '' : dir) + '/' + hit.name) };
    } finally {
      vol.unmount();
    }
  } finally {
    await dev.close();
  }
}

/** The invariant: the bootloader's view is the one before the run or the complete new firmware. */
function viewOk(view, before, next) {
  const same = (a, b) => a.kind === b.kind && (a.kind !== 'file' || sha(a.bytes) === sha(b.bytes));
  if (same(view, before)) return true;
  return view.kind === 'file' && sha(view.bytes) === sha(next);
}

function describeView(v) {
  return v.kind === 'file' ? `${v.name} (${v.bytes.length} bytes, sha ${sha(v.bytes).slice(0, 10)})` : v.kind;
}

async function readCardFile(img, path) {
  const m = await load();
  const dev = m.image.openImageFile(img, { readOnly: true });
  try {
    const vol = await m.fat.FatVolume.mount(m.boot.fatVolumeDevice(dev));
    try {
      return vol.tryStat(path) ? vol.readFile(path) : null;
    } finally {
      vol.unmount();
    }
  } finally {
    await dev.close();
  }
}

/** A synthetic Klipper build for the SKR 1.3 (LPC1768, application at 0x4000) with its dictionary. */
async function makeBuild(dir, version, size = 12000, mcu = 'lpc1768') {
  const m = await load();
  const fw = m.firmware.makeSyntheticFirmware({ mcu, flashStart: 0x4000, size, klipper: { version } });
  const bin = join(dir, `${version}.bin`);
  const dict = join(dir, `${version}.dict`);
  writeFileSync(bin, fw.bytes);
  writeFileSync(dict, fw.dictionaryJson);
  return { bin, dict, version, bytes: fw.bytes };
}

/* ------------------------------------------------------------------ the host loses nothing */

/** Both readings of a card image (bench/faults/card-tree.js readTree) with this build's reader. */
export async function readCardTree(img, scratch) {
  const m = await load();
  return readTree(img, { mods: { inspect: m.inspect, image: m.image }, scratch });
}

const templates = new Map();

/**
 * A card image as makeCardImage makes it, with the user's files on it (bench/faults/bystanders.js),
 * copied from a template made once per scratch directory. Returns the template's reading: the
 * baseline the card is judged against after every run.
 */
export async function makeBystanderCard(img, scratch) {
  let t = templates.get(scratch);
  if (!t) {
    const path = join(scratch, 'bystanders.template');
    makeCardImage(path);
    seedBystanders(path, PART_START * 512, scratch, rng(7));
    t = { path, tree: await readCardTree(path, scratch) };
    templates.set(scratch, t);
  }
  copyFileSync(t.path, img);
  return t.tree;
}

const shorten = (problems, n = 4) => problems.slice(0, n).join('; ') + (problems.length > n ? ` (and ${problems.length - n} more)` : '');

/**
 * The judge of "the host loses nothing" for runs of flash-sdcard: on the card, every entry
 * outside the firmware path (the name the board's bootloader flashes, the name it leaves, our
 * FWCARD.TMP) is what `baseline` holds, by mtools and by our raw reader; on the host, nothing in
 * `hostDir` (the directory of the -f/-d files) changed, appeared or went.
 */
export async function hostGuard(scratch, hostDir) {
  const m = await load();
  const board = m.catalog.loadCatalog().get(BOARD);
  const folder = `/${board.folder.value.replace(/^\/+|\/+$/g, '')}`.toLowerCase();
  const firmwarePath = new Set([board.firmwareName.value, board.afterFlash.value, 'FWCARD.TMP'].map((n) => n.toLowerCase()));
  const keep = (p) => !(dirOf(p).toLowerCase() === folder && firmwarePath.has(baseOf(p).toLowerCase()));
  const hostBefore = hostState(hostDir);
  return {
    /** Judge after a run (`when` says which); notes one invariant violation listing what changed. */
    async check(c, part, img, baseline, when) {
      const problems = [];
      if (baseline) {
        c.judged.cards++;
        problems.push(...compareKept(baseline, await readCardTree(img, scratch), keep).map((p) => `bystander ${p}`));
      }
      c.judged.hosts++;
      problems.push(...compareHost(hostBefore, hostState(hostDir), hostDir));
      if (problems.length) note(c, part, 'invariantViolations', `${when}: the host lost something: ${shorten(problems)}`);
      return problems.length === 0;
    },
  };
}

/** An in-process simulated SKR 1.3 on a card image (like test/flash-sdcard/helpers.ts startRig). */
async function startRig(img, o = {}) {
  const m = await load();
  const image = m.image.openImageFile(img);
  const card = new m.card.EmulatedSdCard({ device: image, capacityType: 'SDSC' });
  const sim = m.sim.startSimulator({ board: BOARD, card, link: { kind: 'usb' }, latencyMs: 0.05, bootMs: 100, version: 'v0.12.0-old', statsIntervalMs: 0, ...o });
  return {
    sim, card, image,
    async close() {
      sim.close();
      await image.close();
    },
  };
}

function isTyped(e, m) {
  return e instanceof m.errors.FwcardError && typeof e.code === 'string' && !!e.message;
}

/** Run flashSdcard against a rig, bounded: past `limitMs` it counts as a hang. */
async function flashBounded(rig, build, o = {}, limitMs = 120_000) {
  const m = await load();
  const t0 = Date.now();
  let timer;
  const run = m.flash.flashSdcard({
    // The device name is only the lock's key: one per process, so that campaigns running in
    // parallel (vitest runs test files in parallel) do not lock each other out.
    device: `sim:skr-${process.pid}`, board: BOARD, firmware: build.bin, dictionary: build.dict,
    transport: o.transport ?? (() => rig.sim.connect()), connectTimeoutMs: o.connectTimeoutMs ?? 8000, reconnectTimeoutMs: 8000, ...o.extra,
  }).then((r) => ({ ok: true, r }), (e) => ({ ok: false, e }));
  const hang = new Promise((res) => (timer = setTimeout(() => res({ hang: true }), limitMs)));
  const out = await Promise.race([run, hang]);
  clearTimeout(timer);
  if (out.hang) {
    rig.sim.close();
    await Promise.race([run, sleep(5000)]);
  }
  return { ...out, ms: Date.now() - t0 };
}

/**
 * After a failed run: typed error, invariant, fsck, the host lost nothing (`host`: { guard,
 * baseline }, see hostGuard), and a clean re-run that must verify and lose nothing either.
 */
async function judgeFailure(c, part, img, scratch, before, build, out, rerun, host) {
  const m = await load();
  let clean = isTyped(out.e, m) && !!out.e.hint;
  if (!clean) note(c, part, 'invariantViolations', `untyped or hintless error: ${out.e?.code ?? ''} ${out.e?.stack ?? out.e}`);
  const view = await bootView(img);
  if (!viewOk(view, before, build.bytes)) {
    note(c, part, 'invariantViolations', `after ${out.e?.code}: bootloader would flash ${describeView(view)}`);
    clean = false;
  }
  if (host && !(await host.guard.check(c, part, img, host.baseline, `after ${out.e?.code}`))) clean = false;
  const left = halfWritten(img, scratch);
  const again = await rerun();
  if (again.hang) {
    note(c, part, 'hangs', 're-run hung');
    clean = false;
  } else if (!again.ok || again.r.verification !== 'dictionary') {
    note(c, part, 'invariantViolations', `re-run after ${out.e?.code} failed: ${again.e?.code} ${again.e?.message}`);
    clean = false;
  } else if (!judgeRecovery(c, part, img, scratch, left, again.r.interruptedUpdate, `after ${out.e?.code}`)) {
    clean = false;
  } else if (!(await verifiedOnCard(img, build))) {
    note(c, part, 'silentCorruption', `re-run after ${out.e?.code} reported success with wrong data`);
    clean = false;
  } else if (host && !(await host.guard.check(c, part, img, host.baseline, `re-run after ${out.e?.code}`))) {
    clean = false;
  }
  if (clean) note(c, part, 'failedClean');
  return clean;
}

/**
 * fsck.fat right after an interruption. FAT has no journal: a run cut off between the writes of
 * one update (the FAT, its mirror, the entry) leaves lost clusters or FATs that differ, whatever
 * the tool. That is allowed here only when the next run undoes it (judgeRecovery): returns what
 * fsck.fat said, or null when it found nothing.
 */
function halfWritten(img, scratch) {
  const f = fsckImage(img, scratch);
  return f.ok ? null : f.output.split('\n').slice(1, 8).join(' / ');
}

/**
 * After the re-run: an update the interruption left half-written (`left`, fsck.fat's words) must
 * have been undone by it from the host's record (`undo`: the re-run's interruptedUpdate), and
 * fsck.fat must find nothing at all now. Either failing counts as an fsck failure.
 */
function judgeRecovery(c, part, img, scratch, left, undo, what) {
  let ok = true;
  if (left) {
    c.undo.halfWritten++;
    if (undo?.status === 'undone' && undo.written > 0) c.undo.undone++;
    else {
      note(c, part, 'fsckFailures', `${what}: fsck.fat found ${left}, and the re-run did not undo it (${JSON.stringify(undo ?? null)})`);
      ok = false;
    }
  }
  const after = fsckImage(img, scratch);
  if (!after.ok) {
    note(c, part, 'fsckFailures', `${what}, after the re-run: ${after.output.split('\n').slice(1, 8).join(' / ')}`);
    ok = false;
  }
  return ok;
}

/** After a reported success: the card holds the firmware, fsck.fat is clean, the host lost nothing. */
async function judgeSuccess(c, part, img, scratch, build, host, what) {
  const held = !host || (await host.guard.check(c, part, img, host.baseline, `after a verified upload`));
  if (!(await verifiedOnCard(img, build))) note(c, part, 'silentCorruption', `reported success but FIRMWARE.CUR differs${what ? ` (${what})` : ''}`);
  else if (held) note(c, part, 'verified');
  if (!fsckImage(img, scratch).ok) note(c, part, 'fsckFailures', `after success${what ? ` (${what})` : ''}`);
}

/** After a reported success: the flashed file on the card is exactly the firmware. */
async function verifiedOnCard(img, build) {
  const cur = await readCardFile(img, '/FIRMWARE.CUR');
  return !!cur && sha(cur) === sha(build.bytes);
}

function budgetLeft(deadline) {
  return Date.now() < deadline;
}

/* ------------------------------------------------------------------ 1. serial link faults */

/**
 * Uploads through the simulated link with random drops, bit flips and duplicates (each a third of
 * the byte error rate), bursts of garbled bytes (a tenth of the rate, per byte, 2–16 bytes long)
 * and stalls of 20–400 ms at random moments, on the UART (250000 baud) and USB link models.
 */
export async function serialLink({ runs = 50, seed = 1, budgetMs = 240_000, rates = [1e-5, 1e-4, 1e-3], links = ['uart', 'usb'], scratch }) {
  const c = counts('serial-link');
  const rand = rng(seed);
  const hostDir = join(scratch, 'host-link');
  mkdirSync(hostDir, { recursive: true });
  const build = await makeBuild(hostDir, 'v0.13.0-link');
  const guard = await hostGuard(scratch, hostDir);
  const deadline = Date.now() + budgetMs;
  const perCell = Math.max(1, Math.ceil(budgetMs / (rates.length * links.length)));
  for (const link of links) {
    for (const rate of rates) {
      const cellEnd = Math.min(deadline, Date.now() + perCell);
      for (let i = 0; i < runs && (i === 0 || Date.now() < cellEnd); i++) {
        const part = `${link} ${rate.toExponential(0)}`;
        const img = join(scratch, 'link.img');
        const host = { guard, baseline: await makeBystanderCard(img, scratch) };
        const before = await bootView(img);
        const s = Math.floor(rand() * 2 ** 31);
        const burstRand = rng(s ^ 0x5bd1e995);
        const burst = (b) => {
          if (burstRand() >= Math.min(0.5, (rate / 10) * b.length)) return b;
          const out = b.slice();
          const at = Math.floor(burstRand() * out.length);
          const n = 2 + Math.floor(burstRand() * 15);
          for (let k = at; k < Math.min(out.length, at + n); k++) out[k] = Math.floor(burstRand() * 256);
          return out;
        };
        const faults = { dropRate: rate / 3, flipRate: rate / 3, duplicateRate: rate / 3, seed: s, hostToMcu: burst, mcuToHost: burst };
        const rig = await startRig(img, { link: link === 'uart' ? { kind: 'uart', baud: 250000 } : { kind: 'usb' }, faults });
        const stalls = [0, 1].map(() => setTimeout(() => rig.sim.stall(20 + Math.floor(rand() * 380)), Math.floor(rand() * 3000)));
        begin(c, part);
        const out = await flashBounded(rig, build);
        stalls.forEach(clearTimeout);
        await rig.close();
        if (out.hang) {
          note(c, part, 'hangs', `upload hung (seed ${s})`);
          continue;
        }
        if (out.ok) {
          await judgeSuccess(c, part, img, scratch, build, host, `${out.r.verification}, seed ${s}`);
          continue;
        }
        await judgeFailure(c, part, img, scratch, before, build, out, async () => {
          const clean = await startRig(img);
          try {
            return await flashBounded(clean, build);
          } finally {
            await clean.close();
          }
        }, host);
      }
    }
  }
  return c;
}

/* ------------------------------------------------------------------ 2. interruptions */

/** Wait until `path` has not been modified for 300 ms (at most 5 s). */
async function settleFile(path) {
  const until = Date.now() + 5000;
  let last = statSync(path).mtimeMs;
  let quietSince = Date.now();
  while (Date.now() < until && Date.now() - quietSince < 300) {
    await sleep(50);
    const m = statSync(path).mtimeMs;
    if (m !== last) {
      last = m;
      quietSince = Date.now();
    }
  }
}

function spawnCli(args, opts = {}) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  const done = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal, stdout: out, stderr: err })));
  return { child, done, get stderr() { return err; }, get output() { return out + err; } };
}

function cliSync(args, timeout = 180_000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout });
  let doc = null;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    /* not JSON: judged by the caller */
  }
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, doc, ms: Date.now() - t0, timedOut: r.error?.code === 'ETIMEDOUT' };
}

/** `fwcard check` after an interruption: it must give a verdict (exit 0 or 1, one JSON document), never crash. */
function checkVerdict(c, part, img, extra = []) {
  const r = cliSync(['check', img, '--board', BOARD, '--json', ...extra], 60_000);
  if (r.timedOut) {
    note(c, part, 'hangs', 'fwcard check hung');
    return false;
  }
  if (!(r.status === 0 || r.status === 1) || !r.doc) {
    note(c, part, 'invariantViolations', `fwcard check gave no verdict (exit ${r.status}): ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 200)}`);
    return false;
  }
  return true;
}

async function startSimulateProcess(img, tty, link = 'usb') {
  const s = spawnCli(['simulate', '--board', BOARD, '--card', img, '--link', link, '--port-link', tty, '--boot-ms', '100']);
  const deadline = Date.now() + 15_000;
  while (!s.output.includes('serial port:')) {
    if (s.child.exitCode !== null || Date.now() > deadline) throw new Error(`simulate did not start: ${s.output}`);
    await sleep(30);
  }
  return s;
}

async function stopProcess(p) {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await p.done;
}

/** SIGKILL `fwcard flash-sdcard` (a child process on a pty served by `fwcard simulate`) at random moments. */
async function killFlash(c, { runs, rand, deadline, scratch }) {
  const part = 'SIGKILL flash-sdcard';
  const hostDir = join(scratch, 'host-kill');
  mkdirSync(hostDir, { recursive: true });
  const build = await makeBuild(hostDir, 'v0.13.0-kill');
  const guard = await hostGuard(scratch, hostDir);
  const img = join(scratch, 'kill.img');
  const tty = join(scratch, 'kill-tty');
  const baseline = await makeBystanderCard(img, scratch);
  const flashArgs = ['flash-sdcard', '-f', build.bin, '-d', build.dict, '--json', tty, BOARD];
  // A private lock directory: in the machine-wide one a re-run was refused busy-locked by a live
  // pid that was not the killed fwcard (another fwcard on this shared machine, or a reused pid).
  const lockDir = process.env.FWCARD_LOCK_DIR;
  process.env.FWCARD_LOCK_DIR = join(scratch, 'kill-locks');
  let sim = await startSimulateProcess(img, tty);
  try {
    // Calibration: one whole run gives the span the kill points are drawn from.
    const first = cliSync(flashArgs);
    if (first.status !== 0) throw new Error(`calibration flash failed: ${first.stdout}${first.stderr}`);
    const span = first.ms;
    for (let i = 0; i < runs && budgetLeft(deadline); i++) {
      begin(c, part);
      const before = await bootView(img);
      const at = Math.floor(rand() * span);
      const f = spawnCli(flashArgs);
      await Promise.race([sleep(at), f.done]);
      const killed = f.child.exitCode === null;
      if (killed) f.child.kill('SIGKILL');
      const end = await f.done;
      // The simulator still executes what the killed process left in the pty's buffer: judge
      // the card once the image has stopped changing.
      await settleFile(img);
      let ok = true;
      const view = await bootView(img);
      if (!viewOk(view, before, build.bytes)) {
        note(c, part, 'invariantViolations', `killed at ${at} ms: bootloader would flash ${describeView(view)}`);
        ok = false;
      }
      const left = halfWritten(img, scratch);
      ok = (await guard.check(c, part, img, baseline, `killed at ${at} ms`)) && ok;
      ok = checkVerdict(c, part, img) && ok;
      let again = cliSync(flashArgs);
      if (again.status !== 0 && again.doc?.error?.code === 'port-busy') {
        // The pty was still held by the killed process' last open: a second attempt.
        await sleep(300);
        again = cliSync(flashArgs);
      }
      if (again.status !== 0 || again.doc?.verification !== 'dictionary') {
        note(c, part, 'invariantViolations', `re-run after a kill at ${at} ms failed: ${again.stdout.slice(0, 300)}`);
        ok = false;
        // A wedged simulator would poison the next runs: start a fresh one.
        await stopProcess(sim);
        sim = await startSimulateProcess(img, tty);
      } else if (!judgeRecovery(c, part, img, scratch, left, again.doc.interruptedUpdate, `killed at ${at} ms`)) {
        ok = false;
      } else if (!(await verifiedOnCard(img, build))) {
        note(c, part, 'silentCorruption', `re-run after a kill at ${at} ms reported success with wrong data`);
        ok = false;
      } else if (!(await guard.check(c, part, img, baseline, `re-run after a kill at ${at} ms`))) {
        ok = false;
      }
      if (ok) note(c, part, !killed && end.code === 0 ? 'verified' : 'failedClean');
    }
  } finally {
    await stopProcess(sim);
    if (lockDir === undefined) delete process.env.FWCARD_LOCK_DIR;
    else process.env.FWCARD_LOCK_DIR = lockDir;
  }
}

/** Pull the simulated board's cable at a random byte of the upload or the read-back. */
async function unplug(c, { runs, rand, deadline, scratch }) {
  const part = 'unplug mid-upload';
  const hostDir = join(scratch, 'host-unplug');
  mkdirSync(hostDir, { recursive: true });
  const build = await makeBuild(hostDir, 'v0.13.0-unplug');
  const guard = await hostGuard(scratch, hostDir);
  for (let i = 0; i < runs && budgetLeft(deadline); i++) {
    const img = join(scratch, 'unplug.img');
    const host = { guard, baseline: await makeBystanderCard(img, scratch) };
    const rig = await startRig(img);
    try {
      begin(c, part);
      const before = await bootView(img);
      const phase = rand() < 0.7 ? 'upload' : 'verify';
      const frac = rand();
      let pulled = false;
      const out = await flashBounded(rig, build, {
        extra: {
          onProgress: (ev) => {
            if (!pulled && ev.phase === phase && ev.total && (ev.bytes ?? 0) >= frac * ev.total) {
              pulled = true;
              rig.sim.disconnect();
            }
          },
        },
      });
      if (out.hang) {
        note(c, part, 'hangs', `unplug in ${phase} at ${frac.toFixed(2)} hung`);
        continue;
      }
      if (out.ok) {
        const held = await guard.check(c, part, img, host.baseline, `unplug in ${phase} at ${frac.toFixed(2)}`);
        if (!(await verifiedOnCard(img, build))) note(c, part, 'silentCorruption', `success after unplug in ${phase} but the card differs`);
        else if (held) note(c, part, pulled ? 'failedClean' : 'verified');
        continue;
      }
      await judgeFailure(c, part, img, scratch, before, build, out, () => flashBounded(rig, build), host);
    } finally {
      await rig.close();
    }
  }
}

/** SIGKILL `fwcard prepare` at random moments, on an image file or on a loop device over one. */
async function killPrepare(c, { runs, rand, deadline, scratch, loop }) {
  const part = loop ? 'SIGKILL prepare (loop device)' : 'SIGKILL prepare (image)';
  // prepare formats the card (the user confirmed it): only the host side is judged for it.
  const hostDir = join(scratch, loop ? 'host-prepare-loop' : 'host-prepare-image');
  mkdirSync(hostDir, { recursive: true });
  const old = await makeBuild(hostDir, 'v0.12.0-prep-old');
  const next = await makeBuild(hostDir, 'v0.13.0-prep-new');
  const guard = await hostGuard(scratch, hostDir);
  const backing = join(scratch, loop ? 'prep-loop.img' : 'prep.img');
  writeFileSync(backing, '');
  truncateSync(backing, 64 * 1024 * 1024);
  let dev = backing;
  if (loop) {
    const r = spawnSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`losetup: ${r.stderr}`);
    dev = r.stdout.trim();
  }
  const settle = () => loop && spawnSync('blockdev', ['--flushbufs', dev]);
  const args = (fw) => ['prepare', dev, '--board', BOARD, '--firmware', fw.bin, '--yes', '--json', '-q'];
  try {
    const first = cliSync(args(old));
    if (first.status !== 0) throw new Error(`prepare failed: ${first.stdout}${first.stderr}`);
    const span = first.ms;
    for (let i = 0; i < runs && budgetLeft(deadline); i++) {
      begin(c, part);
      // Previous state: a card prepared with the old firmware.
      const prev = cliSync(args(old));
      if (prev.status !== 0) {
        note(c, part, 'invariantViolations', `setting up the previous state failed: ${prev.stdout.slice(0, 200)}`);
        continue;
      }
      settle();
      const before = await bootView(backing);
      const at = Math.floor(rand() * span);
      const p = spawnCli(args(next));
      await Promise.race([sleep(at), p.done]);
      const killed = p.child.exitCode === null;
      if (killed) p.child.kill('SIGKILL');
      await p.done;
      settle();
      let ok = true;
      // Formatting is the destruction the user confirmed: a blank or unreadable card is allowed
      // mid-way; a firmware file under the flashed name must be the old one or the complete new one.
      const view = await bootView(backing);
      if (!(viewOk(view, before, next.bytes) || view.kind === 'none' || view.kind === 'unreadable')) {
        note(c, part, 'invariantViolations', `killed at ${at} ms: bootloader would flash ${describeView(view)}`);
        ok = false;
      }
      ok = (await guard.check(c, part, backing, null, `prepare killed at ${at} ms`)) && ok;
      ok = checkVerdict(c, part, backing) && ok;
      const again = cliSync(args(next));
      settle();
      if (again.status !== 0 || !again.doc?.verified) {
        note(c, part, 'invariantViolations', `re-run after a kill at ${at} ms failed: ${again.stdout.slice(0, 300)}`);
        ok = false;
      } else {
        if (!fsckImage(backing, scratch).ok) note(c, part, 'fsckFailures', `after the re-run (kill at ${at} ms)`);
        const v = await bootView(backing);
        if (v.kind !== 'file' || sha(v.bytes) !== sha(next.bytes)) {
          note(c, part, 'silentCorruption', `re-run reported verified but the card holds ${describeView(v)}`);
          ok = false;
        }
        ok = (await guard.check(c, part, backing, null, `re-run after a kill at ${at} ms`)) && ok;
      }
      if (ok) note(c, part, killed ? 'failedClean' : 'verified');
    }
  } finally {
    if (loop) spawnSync('losetup', ['-d', dev]);
  }
}

export async function interruption({ runs = 100, seed = 2, budgetMs = 300_000, scratch, kinds = ['kill-flash', 'unplug', 'kill-prepare-image', 'kill-prepare-loop'] }) {
  const c = counts('interruption');
  const rand = rng(seed);
  const share = budgetMs / kinds.length;
  for (const k of kinds) {
    const deadline = Date.now() + share;
    const o = { runs, rand, deadline, scratch };
    if (k === 'kill-flash') await killFlash(c, o);
    if (k === 'unplug') await unplug(c, o);
    if (k === 'kill-prepare-image') await killPrepare(c, { ...o, loop: false });
    if (k === 'kill-prepare-loop') await killPrepare(c, { ...o, loop: true });
  }
  return c;
}

/* ------------------------------------------------------------------ 3. card faults */

/** Documented upper bound for any single card wait (busy 1 s, init 2 s) plus the link's retries. */
export const CARD_FAULT_LIMIT_MS = 30_000;

const CARD_FAULTS = [
  { name: 'write rejected (CRC)', arm: (card, r) => (card.faults.rejectWrites = { count: 1 + Math.floor(r() * 3), kind: 'crc' }) },
  { name: 'write rejected (write error)', arm: (card, r) => (card.faults.rejectWrites = { count: 1 + Math.floor(r() * 3), kind: 'write-error' }) },
  { name: 'read CRC errors', arm: (card, r) => (card.faults.readCrcErrorCount = 1 + Math.floor(r() * 3)) },
  { name: 'card stays busy', arm: (card) => (card.faults.stayBusy = true) },
  { name: 'card removed mid-transfer', arm: (card, r) => (card.faults.removeAfterBlocks = Math.floor(r() * 40)) },
  { name: 'write-protect set', arm: (card) => (card.writeProtect = true), atStart: true },
  { name: 'CSD lies about capacity', arm: (card) => (card.faults.csdCapacityBytes = 2 * 1024 * 1024 * 1024), atStart: true },
];

export async function cardFaults({ runs = 20, seed = 3, budgetMs = 120_000, scratch, kinds = CARD_FAULTS.map((k) => k.name) }) {
  const c = counts('card-faults');
  const rand = rng(seed);
  const hostDir = join(scratch, 'host-card');
  mkdirSync(hostDir, { recursive: true });
  const build = await makeBuild(hostDir, 'v0.13.0-card');
  const guard = await hostGuard(scratch, hostDir);
  const deadline = Date.now() + budgetMs;
  const perKind = budgetMs / kinds.length;
  for (const kind of CARD_FAULTS.filter((k) => kinds.includes(k.name))) {
    const kindEnd = Math.min(deadline, Date.now() + perKind);
    for (let i = 0; i < runs && (i === 0 || Date.now() < kindEnd); i++) {
      const part = kind.name;
      const img = join(scratch, 'cardfault.img');
      const host = { guard, baseline: await makeBystanderCard(img, scratch) };
      const rig = await startRig(img);
      try {
        begin(c, part);
        const before = await bootView(img);
        const frac = rand();
        let armed = false;
        if (kind.atStart) {
          kind.arm(rig.card, rand);
          armed = true;
        }
        const out = await flashBounded(rig, build, {
          extra: {
            onProgress: (ev) => {
              if (!armed && ev.phase === 'upload' && ev.total && (ev.bytes ?? 0) >= frac * ev.total) {
                armed = true;
                kind.arm(rig.card, rand);
              }
            },
          },
        }, CARD_FAULT_LIMIT_MS);
        if (out.hang) {
          note(c, part, 'hangs', `no answer within ${CARD_FAULT_LIMIT_MS} ms`);
          continue;
        }
        if (out.ok) {
          // Recovered by retries (or the fault did not matter): the card must hold the firmware.
          await judgeSuccess(c, part, img, scratch, build, host);
          continue;
        }
        await judgeFailure(c, part, img, scratch, before, build, out, async () => {
          // The user's fix: a good card (faults cleared, re-inserted / power-cycled).
          for (const k of Object.keys(rig.card.faults)) delete rig.card.faults[k];
          rig.card.writeProtect = false;
          if (!rig.card.inserted) rig.card.insert();
          await rig.sim.powerCycle();
          return flashBounded(rig, build);
        }, host);
      } finally {
        await rig.close();
      }
    }
  }
  return c;
}

/* ------------------------------------------------------------------ 4. MCU faults */

/** A device on the port that is not Klipper: it echoes what it gets, or sends noise. */
function foreignDevice(kind, rand) {
  let open = false;
  let timer;
  const data = new Set();
  const close = new Set();
  const emit = (b) => open && data.forEach((l) => l(b));
  return {
    name: `fake-${kind}`,
    get isOpen() {
      return open;
    },
    async open() {
      open = true;
      if (kind === 'noise') timer = setInterval(() => emit(Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))), 5);
    },
    async write(b) {
      if (kind === 'echo') setTimeout(() => emit(b.slice()), 1);
    },
    async close() {
      open = false;
      clearInterval(timer);
      close.forEach((l) => l());
    },
    onData(l) {
      data.add(l);
      return () => data.delete(l);
    },
    onClose(l) {
      close.add(l);
      return () => close.delete(l);
    },
  };
}

/** The simulator's port at a wrong baud rate: every byte arrives as some other byte, both ways. */
function wrongBaud(inner) {
  // At 115200 baud, bytes sent at 250000 are sampled as garbage; a fixed scramble models that.
  const garble = (b) => Uint8Array.from(b, (x) => (x * 0x1d + 0x55) & 0xff ^ 0x7e);
  const t = inner();
  return {
    name: 'wrong-baud',
    get isOpen() {
      return t.isOpen;
    },
    open: () => t.open(),
    write: (b) => t.write(garble(b)),
    close: () => t.close(),
    onData: (l) => t.onData((b) => l(garble(b))),
    onClose: (l) => t.onClose(l),
  };
}

export async function mcuFaults({ runs = 10, seed = 4, budgetMs = 90_000, scratch }) {
  const c = counts('mcu-faults');
  const rand = rng(seed);
  const m = await load();
  const hostDir = join(scratch, 'host-mcu');
  mkdirSync(hostDir, { recursive: true });
  const build = await makeBuild(hostDir, 'v0.13.0-mcu');
  const guard = await hostGuard(scratch, hostDir);
  const deadline = Date.now() + budgetMs;
  const reshaped = () => {
    const profile = m.profile.mcuProfile('lpc1768');
    const d = m.profile.buildSimDictionary({ profile, link: 'usb', version: 'v0.9.1-reshaped' });
    // An older/newer Klipper: the SPI commands carry other parameters and other ids.
    const commands = {};
    for (const [f, id] of Object.entries(d.commands)) commands[f.replace(/^spi_transfer oid=%c data=%\*s$/, 'spi_transfer oid=%c rate=%u data=%*s').replace(/^config_spi oid=%c (.*)$/, 'config_spi oid=%c bus=%u $1')] = id;
    return { dictionary: { ...d, commands } };
  };
  const otherMcu = () => ({ dictionary: m.profile.buildSimDictionary({ profile: m.profile.mcuProfile('stm32f446xx'), link: 'usb', version: 'v0.13.0-other' }) });
  const cases = [
    // The MCU is shut down (a static string names why): fwcard resets it and carries on.
    { name: 'MCU shut down', expect: 'verified', setup: (rig) => rig.sim.mcu.shutdown('Timer too close') },
    { name: 'wrong MCU type', expect: 'refused', code: /mcu-type-mismatch/, sim: { firmware: otherMcu() } },
    { name: 'reshaped commands (other Klipper version)', expect: 'refused', sim: { firmware: reshaped() } },
    { name: 'non-Klipper device that echoes', expect: 'refused', transport: () => foreignDevice('echo', rand) },
    { name: 'non-Klipper device sending noise', expect: 'refused', transport: () => foreignDevice('noise', rand) },
    { name: 'wrong baud rate', expect: 'refused', wrap: true },
  ];
  for (let i = 0; i < runs && budgetLeft(deadline); i++) {
    for (const k of cases) {
      if (!budgetLeft(deadline)) break;
      const part = k.name;
      const img = join(scratch, 'mcufault.img');
      const host = { guard, baseline: await makeBystanderCard(img, scratch) };
      const rig = await startRig(img, k.sim ?? {});
      try {
        begin(c, part);
        const before = sha(readFileSync(img));
        const beforeView = await bootView(img);
        k.setup?.(rig);
        const transport = k.transport ?? (k.wrap ? () => wrongBaud(() => rig.sim.connect()) : undefined);
        const out = await flashBounded(rig, build, { transport, connectTimeoutMs: 3000 }, 60_000);
        if (out.hang) {
          note(c, part, 'hangs', 'no answer within 60 s');
          continue;
        }
        if (k.expect === 'verified') {
          if (out.ok) await judgeSuccess(c, part, img, scratch, build, host);
          else await judgeFailure(c, part, img, scratch, beforeView, build, out, () => flashBounded(rig, build), host);
          continue;
        }
        if (out.ok) {
          note(c, part, 'invariantViolations', `went ahead on ${k.name}`);
          continue;
        }
        let ok = isTyped(out.e, m) && !!out.e.hint && (!k.code || k.code.test(out.e.code));
        if (!ok) note(c, part, 'invariantViolations', `error ${out.e?.code}: ${out.e?.message}`);
        // Refused before touching the card: the image is byte for byte what it was.
        if (sha(readFileSync(img)) !== before) {
          note(c, part, 'invariantViolations', `the card was written although ${k.name} was refused`);
          ok = false;
        }
        if (!(await guard.check(c, part, img, null, `${k.name} refused`))) ok = false;
        if (ok) note(c, part, 'failedClean');
      } finally {
        await rig.close();
      }
    }
  }
  return c;
}

/* ------------------------------------------------------------------ 5. bad input */

function fingerprint(path) {
  if (!existsSync(path)) return 'absent';
  const st = statSync(path);
  if (!st.isFile()) return `${st.mode}:${st.mtimeMs}`;
  return `${st.size}:${st.mtimeMs}:${st.size <= 256 * 1024 * 1024 ? sha(readFileSync(path)) : ''}`;
}

function systemDisk() {
  const src = spawnSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).stdout.trim();
  const pk = spawnSync('lsblk', ['-n', '-d', '-o', 'PKNAME', src], { encoding: 'utf8' }).stdout.trim();
  return pk ? `/dev/${pk}` : src.startsWith('/dev/') ? src : null;
}

/**
 * Every command with inputs it must refuse: exit 1 or 2, one JSON document whose error has a code,
 * a message and a hint, and no byte written to the target (fingerprints before and after).
 */
export async function badInput({ scratch, only, seed = 5, fixRuns = 16 }) {
  const c = counts('bad-input');
  const m = await load();
  const d = join(scratch, 'bad');
  mkdirSync(d, { recursive: true });
  const good = await makeBuild(d, 'v0.13.0-good', 12000);
  const f446 = await makeBuild(d, 'v0.13.0-f446', 12000, 'stm32f446xx');
  const empty = join(d, 'empty.bin');
  writeFileSync(empty, '');
  const text = join(d, 'notes.bin');
  writeFileSync(text, 'these are not the bytes you are looking for\n'.repeat(200));
  const huge = join(d, 'huge.bin');
  writeFileSync(huge, '');
  truncateSync(huge, 600 * 1024 * 1024);
  const elf = join(d, 'klipper.elf');
  const e = Buffer.alloc(8192);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]).copy(e);
  e.writeUInt16LE(2, 16);
  e.writeUInt16LE(40, 18);
  writeFileSync(elf, e);
  const unreadable = join(d, 'unreadable.bin');
  writeFileSync(unreadable, good.bytes);
  chmodSync(unreadable, 0o000);
  const card = join(d, 'card.img');
  makeCardImage(card);
  const small = join(d, 'small.img');
  writeFileSync(small, '');
  truncateSync(small, 512 * 1024);
  const badDict = join(d, 'bad.dict');
  writeFileSync(badDict, '{ not json');
  const lockDir = join(d, 'locks');
  mkdirSync(lockDir, { recursive: true });
  const lockedImg = join(d, 'locked.img');
  makeCardImage(lockedImg);
  const locks = await dist('util/lock.js');
  const sys = systemDisk();
  // Loop devices this campaign attaches and detaches itself: a read-only one.
  const roBacking = join(d, 'ro.img');
  makeCardImage(roBacking);
  const ro = spawnSync('losetup', ['-f', '--show', '-r', roBacking], { encoding: 'utf8' }).stdout.trim();
  const asNobody = spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;
  const prep = (target, fw, extra = []) => ['prepare', target, '--board', BOARD, '--firmware', fw, '--yes', '--json', '-q', ...extra];
  const fl = (dev, fw, extra = []) => ['flash-sdcard', '-f', fw, '--json', '-q', ...extra, dev, BOARD];
  const cases = [
    { name: 'prepare: missing firmware file', args: prep(card, join(d, 'nope.bin')), code: /missing|not-found/, watch: [card] },
    { name: 'prepare: empty firmware', args: prep(card, empty), watch: [card] },
    { name: 'prepare: huge firmware', args: prep(card, huge), watch: [card] },
    { name: 'prepare: non-firmware file', args: prep(card, text), watch: [card] },
    { name: 'prepare: ELF instead of BIN', args: prep(card, elf), code: /elf/i, watch: [card] },
    { name: 'prepare: firmware for another MCU (wrong board)', args: prep(card, f446.bin), watch: [card] },
    { name: 'prepare: unknown board', args: ['prepare', card, '--board', 'no-such-board', '--firmware', good.bin, '--yes', '--json'], code: /board/, watch: [card] },
    { name: 'prepare: firmware is a directory', args: prep(card, d), watch: [card] },
    { name: 'prepare: directory as target', args: prep(d, good.bin), watch: [d] },
    { name: 'prepare: image too small', args: prep(small, good.bin), watch: [small] },
    { name: 'prepare: new image of an absurd size', args: prep(join(d, 'absurd.img'), good.bin, ['--size', '99999T']), watch: [join(d, 'absurd.img')] },
    { name: 'prepare: negative size', args: prep(join(d, 'neg.img'), good.bin, ['--size', '-5M']), watch: [join(d, 'neg.img')] },
    { name: 'prepare: cluster size not a power of two', args: prep(card, good.bin, ['--cluster', '3000']), watch: [card] },
    { name: 'prepare: cluster size too big', args: prep(card, good.bin, ['--cluster', '1048576']), watch: [card] },
    { name: 'prepare: invalid device path', args: prep('/dev/fwcard-no-such-disk', good.bin), watch: ['/dev/fwcard-no-such-disk'] },
    { name: 'prepare: read-only device', args: prep(ro, good.bin), watch: [roBacking], skip: !ro },
    { name: 'prepare: system disk', args: prep(sys ?? '/dev/null', good.bin), code: /system-disk/, watch: [], skip: !sys },
    { name: 'prepare: another fwcard holds the image', args: prep(lockedImg, good.bin), code: /busy-locked/, watch: [lockedImg], lock: lockedImg },
    { name: 'prepare: permission denied', args: prep(card, good.bin), code: /permission/, watch: [card], nobody: true, skip: !asNobody },
    { name: 'check: missing target', args: ['check', join(d, 'nope.img'), '--json'], code: /not-found/, watch: [] },
    { name: 'check: directory as target', args: ['check', d, '--json'], watch: [d] },
    { name: 'check: unknown board', args: ['check', card, '--board', 'no-such-board', '--json'], watch: [card] },
    { name: 'check: --fix on a read-only device', args: ['check', ro, '--board', BOARD, '--fix', '--json'], watch: [roBacking], skip: !ro, verdictOk: true },
    { name: 'flash-sdcard: missing firmware', args: fl(join(d, 'tty0'), join(d, 'nope.bin')), code: /missing|not-found/, watch: [] },
    { name: 'flash-sdcard: non-firmware file', args: fl(join(d, 'tty0'), text), watch: [] },
    { name: 'flash-sdcard: ELF instead of BIN', args: fl(join(d, 'tty0'), elf), watch: [] },
    { name: 'flash-sdcard: firmware for another MCU', args: fl(join(d, 'tty0'), f446.bin), watch: [] },
    { name: 'flash-sdcard: unknown board', args: ['flash-sdcard', '-f', good.bin, '--json', join(d, 'tty0'), 'no-such-board'], watch: [] },
    { name: 'flash-sdcard: invalid device path', args: fl(join(d, 'no-such-tty'), good.bin, ['-d', good.dict]), code: /no-such-device/, watch: [] },
    { name: 'flash-sdcard: not a Klipper dictionary', args: fl(join(d, 'tty0'), good.bin, ['-d', badDict]), code: /bad-dictionary/, watch: [] },
    { name: 'flash-sdcard: unreadable dictionary (missing)', args: fl(join(d, 'tty0'), good.bin, ['-d', join(d, 'nope.dict')]), code: /not-found/, watch: [] },
    { name: 'flash-sdcard: absurd baud', args: fl(join(d, 'tty0'), good.bin, ['-b', 'fast']), watch: [] },
    { name: 'flash-sdcard: another fwcard holds the port', args: fl(join(d, 'tty-locked'), good.bin, ['-d', good.dict]), code: /busy-locked/, watch: [], lock: join(d, 'tty-locked') },
  ];
  try {
    for (const k of cases.filter((x) => !only || only.test(x.name))) {
      if (k.skip) continue;
      begin(c, k.name);
      const watch = [...k.watch, good.bin];
      const before = watch.map(fingerprint);
      let held;
      const env = { ...process.env, FWCARD_LOCK_DIR: lockDir };
      if (k.lock) {
        // A second fwcard on the same target: the lock file of a live process (this one).
        process.env.FWCARD_LOCK_DIR = lockDir;
        held = locks.acquireLock(k.lock, 'target');
      }
      const cmd = k.nobody ? ['runuser', ['-u', 'nobody', '--', process.execPath, cli, ...k.args]] : [process.execPath, [cli, ...k.args]];
      if (k.nobody) chmodSync(card, 0o600);
      const r = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', timeout: 120_000, env });
      held?.release();
      let doc = null;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        /* judged below */
      }
      const problems = [];
      if (r.error?.code === 'ETIMEDOUT') {
        note(c, k.name, 'hangs', 'no answer in 120 s');
        continue;
      }
      if (k.verdictOk && r.status === 1 && doc) {
        // check --fix on a read-only device may report the fixes it could not make as findings.
      } else {
        if (r.status !== 1 && r.status !== 2) problems.push(`exit ${r.status}`);
        if (!doc?.error) problems.push('no JSON error document');
        else {
          if (!doc.error.code || !doc.error.message) problems.push('error without code or message');
          if (!doc.error.hint) problems.push(`no hint (${doc.error.code}: ${doc.error.message})`);
          if (k.code && !k.code.test(doc.error.code) && !k.code.test(doc.error.message)) problems.push(`code ${doc.error.code}, expected ${k.code}`);
          if (/internal|bug/i.test(doc.error.code)) problems.push(`internal error: ${doc.error.message}`);
        }
      }
      const after = watch.map(fingerprint);
      if (after.some((f, i) => f !== before[i])) problems.push('the target was written');
      if (problems.length) note(c, k.name, 'invariantViolations', problems.join('; ') + ` [${(r.stdout + r.stderr).slice(0, 200)}]`);
      else note(c, k.name, 'failedClean');
    }
  } finally {
    if (ro) spawnSync('losetup', ['-d', ro]);
    chmodSync(unreadable, 0o600);
    delete process.env.FWCARD_LOCK_DIR;
  }
  if (!only || only.test('check --fix')) await checkFix(c, { runs: fixRuns, rand: rng(seed), scratch });
  void m;
  return c;
}

/** Refused before anything is opened for writing: each must exit 2 with a typed, hinted error. */
const FIX_REFUSALS = [
  { why: 'an unknown board', args: ['--board', 'no-such-board'] },
  { why: 'a missing --firmware file', args: ['--firmware', '/nonexistent/klipper.bin'] },
  { why: '--dry-run, which check does not have', args: ['--dry-run'] },
];

/**
 * check --fix changes only what it reports, and a check that may not write writes nothing: on
 * `runs` seeded cards (FAT16 or FAT32, one of FIX_BOARDS' rules) with the user's files and
 * fixable and unfixable defects (bench/faults/check-fix.js), `check` without --fix and a refused
 * `check --fix` leave every byte and the image's mtime alone; `check --fix` changes only what its
 * fix.applied says it did (judgeFix), and fsck.fat -n finds nothing new afterwards.
 */
async function checkFix(c, { runs, rand, scratch }) {
  const dir = join(scratch, 'fix');
  mkdirSync(dir, { recursive: true });
  const img = join(dir, 'fix.img');
  // What the --fix runs did, so that a test can tell a campaign that fixed nothing from a good one.
  c.judged.fixes = { delete: 0, rename: 0, 'clear-lfn': 0, notDone: 0, notDoneWhy: [] };
  const state = () => ({ bytes: readFileSync(img), mtime: statSync(img).mtimeMs });
  const untouched = (s0) => (statSync(img).mtimeMs === s0.mtime && readFileSync(img).equals(s0.bytes) ? null : 'the card was written');
  for (let i = 0; i < runs; i++) {
    const fix = FIX_BOARDS[Math.floor(rand() * FIX_BOARDS.length)];
    const fat = rand() < 0.5 ? 16 : 32;
    makeCardImage(img, fat === 32 ? 64 : 32, fat);
    seedBystanders(img, PART_START * 512, dir, rand);
    const geometry = (await readCardTree(img, dir)).geometry;
    const planted = await plantDefects(img, geometry, { rand, scratch: dir, fix, readTree: (p) => readCardTree(p, dir) });
    const what = `${fix.board ?? 'generic'}, FAT${fat}: ${planted.join(', ')}`;
    const boardArgs = fix.board ? ['--board', fix.board] : [];

    let part = 'check without --fix: writes nothing';
    begin(c, part);
    let s0 = state();
    let r = cliSync(['check', img, ...boardArgs, '--json'], 60_000);
    let problem = r.timedOut ? null : !((r.status === 0 || r.status === 1) && r.doc?.findings) ? `no verdict (exit ${r.status}): ${r.stdout.slice(0, 200)}${r.stderr.slice(0, 200)}` : untouched(s0);
    if (r.timedOut) note(c, part, 'hangs', `no answer in 60 s (${what})`);
    else if (problem) note(c, part, 'invariantViolations', `${problem} (${what})`);
    else note(c, part, 'verified');

    const refusal = FIX_REFUSALS[i % FIX_REFUSALS.length];
    part = `check --fix refused (${refusal.why}): writes nothing`;
    begin(c, part);
    s0 = state();
    r = cliSync(['check', img, ...boardArgs, '--fix', '--json', ...refusal.args], 60_000);
    problem = r.timedOut ? null : r.status !== 2 || !r.doc?.error?.code || !r.doc.error.hint ? `not refused with a hint (exit ${r.status}): ${r.stdout.slice(0, 200)}` : untouched(s0);
    if (r.timedOut) note(c, part, 'hangs', `no answer in 60 s (${what})`);
    else if (problem) note(c, part, 'invariantViolations', `${problem} (${what})`);
    else note(c, part, 'failedClean');

    part = 'check --fix: changes only what it reports';
    begin(c, part);
    const before = await readCardTree(img, dir);
    const fsckBefore = fsckComplaints(fsckImage(img, dir).output);
    s0 = state();
    r = cliSync(['check', img, ...boardArgs, '--fix', '--json'], 60_000);
    if (r.timedOut) {
      note(c, part, 'hangs', `no answer in 60 s (${what})`);
      continue;
    }
    const after = await readCardTree(img, dir);
    const judged = judgeFix({ before, after, bytesBefore: s0.bytes, bytesAfter: readFileSync(img), doc: r.doc });
    if (!(r.status === 0 || r.status === 1)) judged.problems.unshift(`exit ${r.status}: ${r.stdout.slice(0, 200)}${r.stderr.slice(0, 200)}`);
    for (const k of judged.done) c.judged.fixes[k]++;
    for (const o of (r.doc?.fix?.applied ?? []).filter((x) => !x.done)) {
      c.judged.fixes.notDone++;
      const why = `${o.id}: ${o.error}`.replace(/\d+/g, 'N');
      if (c.judged.fixes.notDoneWhy.length < 5 && !c.judged.fixes.notDoneWhy.includes(why)) c.judged.fixes.notDoneWhy.push(why);
    }
    const fsckNew = fsckComplaints(fsckImage(img, dir).output).filter((l) => !fsckBefore.includes(l));
    if (fsckNew.length) note(c, part, 'fsckFailures', `after --fix (${what}): ${fsckNew.slice(0, 4).join(' / ')}`);
    if (judged.problems.length) note(c, part, 'invariantViolations', `${what}: ${shorten(judged.problems, 6)}`);
    else note(c, part, 'verified');
  }
}

/* ------------------------------------------------------------------ 6. parsers under fuzzing */

/** An in-memory BlockDevice over a byte array (both faces), for parsers that read a device. */
function memoryDevice(bytes) {
  const sectorCount = Math.floor(bytes.length / 512);
  const readSync = (lba, count) => {
    if (lba < 0 || lba + count > sectorCount) throw new RangeError('read past the end');
    return bytes.slice(lba * 512, (lba + count) * 512);
  };
  return {
    name: 'fuzz.img', sectorSize: 512, sectorCount, readOnly: true, sizeBytes: bytes.length,
    readSync, read: async (lba, count) => readSync(lba, count),
    writeSync() { throw new Error('read-only'); }, write: async () => { throw new Error('read-only'); },
    flushSync() {}, flush: async () => {}, close: async () => {},
  };
}

let seedImage;
/** A small FAT16 card (MBR + volume + a firmware file) made by mkfs.fat and mtools, to mutate. */
function baseImage(scratch) {
  if (seedImage) return seedImage;
  const img = join(scratch, 'fuzz-base.img');
  makeCardImage(img, 8);
  const fw = join(scratch, 'fuzz-fw.bin');
  writeFileSync(fw, Buffer.alloc(20000, 0x5a));
  spawnSync('mcopy', ['-i', `${img}@@${PART_START * 512}`, fw, '::firmware.bin'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  spawnSync('mmd', ['-i', `${img}@@${PART_START * 512}`, '::Some Long Directory Name'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  // Only the metadata region matters to the parsers: MBR + boot sector + FATs + root + first clusters.
  seedImage = new Uint8Array(readFileSync(img).subarray(0, (PART_START + 600) * 512));
  return seedImage;
}

/**
 * Fuzz targets: each takes hostile bytes and must return, or throw one of our typed errors, within
 * the time bound. RangeError/TypeError or a plain Error escaping a parser is a crash.
 */
export async function fuzzTargets(scratch) {
  const m = await load();
  const mbr = await dist('partition/mbr.js');
  const probe = await dist('partition/probe.js');
  const inspect = await dist('fat/inspect/index.js');
  const frame = await dist('klipper/frame.js');
  const dict = await dist('klipper/dictionary.js');
  const vlq = await dist('klipper/vlq.js');
  const csd = await dist('sdcard/csd.js');
  const cid = await dist('sdcard/cid.js');
  const check = await dist('flows/check.js');
  const fc = (await import('fast-check')).default;
  const typed = [m.errors.FwcardError, dict.DictionaryError, vlq.TruncatedError];
  const base = baseImage(scratch);
  const mutate = fc.array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 64 }).map((muts) => {
    const b = base.slice();
    for (const [at, v] of muts) b[at] = v;
    return b;
  });
  // Mutations aimed at the structures: MBR, boot sector, FAT, root directory.
  const region = (from, len) => fc.array(fc.tuple(fc.nat({ max: len - 1 }), fc.nat({ max: 255 })), { minLength: 1, maxLength: 24 }).map((muts) => {
    const b = base.slice();
    for (const [at, v] of muts) b[from + at] = v;
    return b;
  });
  const fwBytes = m.firmware.makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x8008000, size: 16000, klipper: { version: 'v-fuzz' } }).bytes;
  const sector = fc.uint8Array({ minLength: 512, maxLength: 512 });
  return {
    typed,
    targets: [
      { name: 'MBR', arb: fc.oneof(sector, region(0, 512).map((b) => b.slice(0, 512))), run: (b) => mbr.parseMbr(b) },
      { name: 'partition probe (MBR/GPT)', arb: fc.oneof(region(0, 512), mutate, fc.uint8Array({ minLength: 512 * 40, maxLength: 512 * 40 }).map((b) => { b[510] = 0x55; b[511] = 0xaa; b.set([0x45, 0x46, 0x49, 0x20, 0x50, 0x41, 0x52, 0x54], 512); return b; })), run: async (b) => probe.probeCard(memoryDevice(b)) },
      { name: 'boot sector', arb: fc.oneof(sector, region(PART_START * 512, 512).map((b) => b.slice(PART_START * 512, PART_START * 512 + 512))), run: (b) => inspect.parseBootSector(b) },
      { name: 'directory entries', arb: fc.uint8Array({ minLength: 32, maxLength: 32 * 48 }), run: (b) => inspect.parseDirectory(Array.from({ length: Math.floor(b.length / 32) }, (_, i) => ({ bytes: b.subarray(i * 32, i * 32 + 32), at: { sector: 0, index: i } })), 5000) },
      { name: 'whole card (check) from a hostile image', arb: fc.oneof(mutate, region(PART_START * 512, 512 * 300)), run: async (b) => check.checkCard(memoryDevice(b), {}) },
      { name: 'Klipper frames', arb: fc.array(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.constant(Uint8Array.of(0x7e))), { maxLength: 40 }), run: (chunks) => { const dec = new frame.BlockDecoder(); for (const ch of chunks) dec.push(ch); } },
      { name: 'identify dictionary', arb: fc.oneof(fc.json(), fc.record({ commands: fc.dictionary(fc.string(), fc.integer()), responses: fc.dictionary(fc.string(), fc.integer()), enumerations: fc.dictionary(fc.string(), fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.tuple(fc.integer(), fc.integer())))), config: fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string())) })).map((x) => (typeof x === 'string' ? x : JSON.stringify(x))), run: (text) => dict.DataDictionary.fromJson(text) },
      { name: 'VLQ', arb: fc.uint8Array({ maxLength: 12 }), run: (b) => vlq.decodeVlq(b, 0, true) },
      { name: 'firmware header', arb: fc.oneof(fc.uint8Array({ maxLength: 4096 }), fc.array(fc.tuple(fc.nat({ max: fwBytes.length - 1 }), fc.nat({ max: 255 })), { maxLength: 32 }).map((muts) => { const b = fwBytes.slice(); for (const [at, v] of muts) b[at] = v; return b; })), run: (b) => m.firmware.inspectFirmware(b) },
      { name: 'Klipper dictionary in firmware', arb: fc.array(fc.tuple(fc.nat({ max: fwBytes.length - 1 }), fc.nat({ max: 255 })), { maxLength: 16 }).map((muts) => { const b = fwBytes.slice(); for (const [at, v] of muts) b[at] = v; return b; }), run: (b) => m.firmware.extractKlipperDictionary(b) },
      { name: 'CSD/CID registers', arb: fc.uint8Array({ minLength: 16, maxLength: 16 }), run: (b) => { csd.decodeCsd(b); cid.decodeCid(b); } },
    ],
  };
}

export const FUZZ_LIMIT_MS = 2000;

export async function fuzz({ runs = 300, seed = 6, budgetMs = 90_000, scratch }) {
  const c = counts('fuzz');
  const fc = (await import('fast-check')).default;
  const { typed, targets } = await fuzzTargets(scratch);
  const deadline = Date.now() + budgetMs;
  for (const t of targets) {
    const samples = fc.sample(t.arb, { numRuns: runs, seed: seed + t.name.length });
    for (const input of samples) {
      if (!budgetLeft(deadline)) break;
      begin(c, t.name);
      const t0 = performance.now();
      const heap0 = process.memoryUsage().heapUsed;
      try {
        await t.run(input);
        note(c, t.name, 'failedClean');
      } catch (e) {
        if (typed.some((T) => e instanceof T)) note(c, t.name, 'failedClean');
        else note(c, t.name, 'invariantViolations', `untyped ${e?.name}: ${e?.message} (${String(e?.stack).split('\n')[1]?.trim()})`);
      }
      const ms = performance.now() - t0;
      if (ms > FUZZ_LIMIT_MS) note(c, t.name, 'hangs', `took ${Math.round(ms)} ms`);
      if (process.memoryUsage().heapUsed - heap0 > 512 * 1024 * 1024) note(c, t.name, 'invariantViolations', 'allocated more than 512 MiB');
    }
  }
  return c;
}

/* ------------------------------------------------------------------ main */

const FIELDS = ['runs', 'verified', 'failedClean', 'silentCorruption', 'invariantViolations', 'fsckFailures', 'hangs'];

export function summary(results) {
  return { campaigns: results.map((r) => Object.fromEntries([['name', r.name], ...FIELDS.map((f) => [f, r[f]])])) };
}

function table(results, meta) {
  const lines = [`fwcard fault campaigns: ${meta}`];
  const head = ['campaign', ...FIELDS];
  const rows = [];
  for (const r of results) {
    rows.push([r.name, ...FIELDS.map((f) => String(r[f]))]);
    for (const [p, v] of Object.entries(r.parts)) if (Object.keys(r.parts).length > 1) rows.push([`  ${p}`, ...FIELDS.map((f) => String(v[f]))]);
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  lines.push(head.map((h, i) => (i ? h.padStart(w[i]) : h.padEnd(w[i]))).join(' | '));
  lines.push(w.map((n) => '-'.repeat(n)).join('-|-'));
  for (const row of rows) lines.push(row.map((x, i) => (i ? x.padStart(w[i]) : x.padEnd(w[i]))).join(' | '));
  for (const r of results) {
    if (r.undo?.halfWritten) lines.push(`* ${r.name}: ${r.undo.halfWritten} interruptions left an update half-written (fsck.fat right after them: lost clusters or FATs that differ); the re-run undid ${r.undo.undone} of them from the host's record`);
  }
  for (const r of results) for (const p of r.problems) lines.push(`! ${r.name}: ${p}`);
  return lines.join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`Usage: node bench/faults.js [options]      (npm run faults -- [options] builds first)

Six fault campaigns: serial-link, interruption, card-faults, mcu-faults, bad-input, fuzz. Each is
bounded in runs and in wall time (about 13 minutes in all on two cores). Prints a table and exits
1 if any run shows silent corruption, an invariant violation, an fsck failure or a hang.
Run as root (loop devices; one case runs fwcard as \`nobody\`), with socat, dosfstools, mtools.

Options:
  --json          one JSON document on stdout ({ "campaigns": [...] }); the table goes to stderr
  --quick         a few runs per cell (about two minutes)
  --runs N        runs per cell (per rate and link, interruption kind, fault kind, ...)
  --seed S        changes every random choice (default 1)
  --only a,b      only these campaigns
  --budget F      multiply every campaign's wall-time bound by F
  --jobs N        run N campaigns at a time, each in its own process
  --no-snapshot   use bin/ and dist/ of the tree instead of a private copy
  -h, --help      print this help and exit`);
    return;
  }
  const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const seed = Number(opt('--seed') ?? 1);
  const only = opt('--only')?.split(',');
  const runsArg = opt('--runs') ? Number(opt('--runs')) : undefined;
  const scratch = mkdtempSync(join(tmpdir(), 'fwcard-faults-'));
  // flash-sdcard's records of card updates in progress (one per card CID; simulated cards share
  // one): this run's own, never the user's.
  process.env.FWCARD_STATE_DIR = join(scratch, 'state');
  // The permission-denied case runs fwcard as `nobody`: it must reach the copy of fwcard.
  chmodSync(scratch, 0o755);
  if (!args.includes('--no-snapshot')) snapshotApp(scratch);
  // --budget F multiplies every wall-time bound (e.g. --runs 50 --budget 10 for the issue's full counts).
  const min = 60_000 * Number(opt('--budget') ?? 1);
  // Default budgets add up to about 13 minutes on two cores; --quick to about 2.5.
  const plan = [
    ['serial-link', serialLink, { runs: runsArg ?? (quick ? 2 : 50), budgetMs: quick ? 0.6 * min : 4 * min }],
    ['interruption', interruption, { runs: runsArg ?? (quick ? 2 : 100), budgetMs: quick ? 0.8 * min : 5 * min }],
    ['card-faults', cardFaults, { runs: runsArg ?? (quick ? 1 : 20), budgetMs: quick ? 0.4 * min : 1.5 * min }],
    ['mcu-faults', mcuFaults, { runs: runsArg ?? (quick ? 1 : 10), budgetMs: quick ? 0.3 * min : 1 * min }],
    ['bad-input', badInput, { fixRuns: runsArg ?? (quick ? 3 : 16) }],
    ['fuzz', fuzz, { runs: runsArg ? runsArg * 20 : quick ? 50 : 400, budgetMs: quick ? 0.2 * min : 1 * min }],
  ];
  const t0 = Date.now();
  const jobs = Math.max(1, Number(opt('--jobs') ?? 1) || 1);
  const selected = plan.filter(([name]) => !only || only.includes(name));
  if (jobs > 1 && selected.length > 1) {
    // Campaigns in parallel child processes (each with its own copy of the app), merged here.
    rmSync(scratch, { recursive: true, force: true });
    const results = await runChildren(selected.map(([name]) => name), args, jobs);
    return report(results, json, `seed ${seed}, ${quick ? '--quick' : runsArg ? `--runs ${runsArg}` : 'default budgets'}${opt('--budget') ? ` --budget ${opt('--budget')}` : ''}, --jobs ${jobs}, ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  const results = [];
  try {
    for (const [name, fn, o] of selected) {
      const t = Date.now();
      let r;
      try {
        // Each campaign's seed follows from its place in the plan, so --only and --jobs runs
        // repeat the same choices as a full run.
        r = await fn({ ...o, seed: seed + plan.findIndex((x) => x[0] === name), scratch });
      } catch (e) {
        // A campaign that itself crashed is a failure of the run, reported, not a lost summary.
        r = counts(name);
        note(r, null, 'invariantViolations', `campaign crashed: ${e?.stack ?? e}`);
      }
      r.seconds = Math.round((Date.now() - t) / 1000);
      results.push(r);
      if (!json) process.stderr.write(`${name}: ${r.runs} runs in ${r.seconds} s\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (args.includes('--emit-results')) {
    // A child of --jobs: hand the full results (with parts and problems) to the parent.
    process.stdout.write(JSON.stringify(results) + '\n');
    return;
  }
  report(results, json, `seed ${seed}, ${quick ? '--quick' : runsArg ? `--runs ${runsArg}` : 'default budgets'}${opt('--budget') ? ` --budget ${opt('--budget')}` : ''}, ${Math.round((Date.now() - t0) / 1000)} s`);
}

function report(results, json, meta) {
  const doc = summary(results);
  if (json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  (json ? console.error : console.log)(table(results, meta));
  const bad = doc.campaigns.some((x) => x.silentCorruption || x.invariantViolations || x.fsckFailures || x.hangs);
  process.exitCode = bad ? 1 : 0;
}

/** Run each named campaign as `faults.js --only name --emit-results`, `jobs` at a time. */
async function runChildren(names, args, jobs) {
  const passed = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--only' || args[i] === '--jobs') i++;
    else if (args[i] !== '--json') passed.push(args[i]);
  }
  const results = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      const name = names[i];
      const t = Date.now();
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...passed, '--only', name, '--emit-results'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (b) => (out += b));
      const code = await new Promise((r) => child.once('exit', (c, sig) => r(c ?? sig)));
      try {
        results[i] = JSON.parse(out.trim().split('\n').pop())[0];
      } catch {
        results[i] = counts(name);
        note(results[i], null, 'invariantViolations', `campaign process ended (${code}) without results`);
      }
      process.stderr.write(`${name}: ${results[i].runs} runs in ${Math.round((Date.now() - t) / 1000)} s\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, names.length) }, worker));
  return results;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) await main();

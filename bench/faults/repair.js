#!/usr/bin/env node
// Fault campaign for `flash-sdcard --format` (issue 17): the repair of a card the SKR 1.3's
// bootloader cannot read (exFAT, NTFS, GPT), cut off at random points — the board unplugged
// (in process, at a random byte of the repair's writes), the fwcard process SIGKILLed (a child
// `fwcard flash-sdcard --format --yes` against `fwcard simulate` on a pty) — and run over a noisy
// link (bytes dropped, flipped, duplicated). Judges after every cut: the card reads as what it was
// (our probe: same table and file system) or as the new volume (fsck.fat -n accepts it); then a
// re-run (without --format: the host's record completes the repair) must verify by the
// dictionary, the simulated bootloader must have flashed the file, fsck.fat and mtools accept
// the volume. Counts: unreadable by both views, fsck failures after the re-run, hangs.
// Usage: node bench/faults/repair.js [--json] [--runs N] [--seed S] [--only unplug,kill,noise] (default 6 runs per cell).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadSynth } from '../../fixtures/load-synth.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'fwcard.js');
const dist = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`Usage: node bench/faults/repair.js [--json] [--runs N] [--seed S] [--only unplug,kill,noise]

Unplugs, SIGKILLs and link noise during flash-sdcard --format on simulated exFAT/NTFS/GPT cards,
then a re-run; judged by our probe, fsck.fat, mtools and the simulated bootloader (issue 17).

Options:
  --json          one JSON document on stdout
  --runs N        runs per cell (default 6)
  --seed S        the random seed, to repeat a campaign
  --only LIST     only these cells: unplug, kill, noise (comma-separated)
  -h, --help      print this help and exit`);
  process.exit(0);
}
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1] || 0) || 6;
const seed = Number(args[args.indexOf('--seed') + 1] || 0) || 17;
const BOARD = 'btt-skr-v1.3';
const KINDS = ['exfat-mbr', 'ntfs-whole', 'gpt'];

const { prng } = await dist('util/prng.js');
const { openImageFile } = await dist('disk/image-file.js');
const { probeCard } = await dist('partition/probe.js');
const { EmulatedSdCard } = await dist('sim/sd-card/emulated-card.js');
const { startSimulator } = await dist('sim/simulator.js');
const { flashSdcard } = await dist('flows/flash-sdcard/index.js');
const { makeSyntheticFirmware } = await loadSynth();

const scratch = mkdtempSync(join(tmpdir(), 'fwcard-faults-repair-'));
process.env.FWCARD_STATE_DIR = join(scratch, 'state');
process.env.FWCARD_LOCK_DIR = join(scratch, 'locks');
const rand = prng(seed);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const counts = {};
const problems = [];
const cell = (name) => (counts[name] ??= { runs: 0, cutOld: 0, cutNew: 0, completedNoCut: 0, rerunCompletedFromRecord: 0, unreadableByBoth: 0, fsckFailuresAfterRerun: 0, rerunFailures: 0, hangs: 0 });

function build(version) {
  const fw = makeSyntheticFirmware({ mcu: 'lpc1768', flashStart: 0x4000, size: 20000, klipper: { version } });
  const bin = join(scratch, `${version}.bin`);
  const dict = join(scratch, `${version}.dict`);
  writeFileSync(bin, fw.bytes);
  writeFileSync(dict, fw.dictionaryJson);
  return { bin, dict, version, bytes: fw.bytes };
}

function onLoop(path, offset, size, cmd, a) {
  const dev = execFileSync('losetup', ['-f', '--show', '-o', String(offset), '--sizelimit', String(size), path], { encoding: 'utf8' }).trim();
  try {
    execFileSync(cmd, [...a, dev], { stdio: 'ignore' });
  } finally {
    execFileSync('losetup', ['-d', dev]);
  }
}

function makeCard(path, kind) {
  writeFileSync(path, '');
  const bytes = 128 * 1024 * 1024;
  truncateSync(path, bytes);
  if (kind === 'exfat-mbr') {
    execFileSync('sfdisk', ['-q', path], { input: 'label: dos\nstart=2048, type=7\n' });
    onLoop(path, 2048 * 512, bytes - 2048 * 512, 'mkfs.exfat', ['-L', 'PCCARD']);
  } else if (kind === 'ntfs-whole') {
    execFileSync('mkntfs', ['-F', '-Q', '-q', '-L', 'WINCARD', path], { stdio: 'ignore' });
  } else {
    execFileSync('sgdisk', ['-o', '-n', '1:2048:0', '-t', '1:0700', path], { stdio: 'ignore' });
    onLoop(path, 2048 * 512, bytes - (2048 + 34) * 512, 'mkfs.exfat', ['-L', 'GPTCARD']);
  }
}

async function probe(img) {
  const d = openImageFile(img, { readOnly: true });
  try {
    return await probeCard(d);
  } finally {
    await d.close();
  }
}
const fsOf = (p) => (p.table === 'none' ? p.superfloppyFs : p.partitions[0]?.fs ?? null);

function fsck(img, start, sectors) {
  const dev = execFileSync('losetup', ['-f', '--show', '-r', '-o', String(start * 512), '--sizelimit', String(sectors * 512), img], { encoding: 'utf8' }).trim();
  try {
    const r = spawnSync('fsck.fat', ['-n', dev], { encoding: 'utf8' });
    return r.status === 0;
  } finally {
    spawnSync('losetup', ['-d', dev]);
  }
}

/** 'old', 'new' or 'neither' (the one outcome the campaign must never see). */
async function view(img, old) {
  const now = await probe(img);
  if (now.table === old.table && fsOf(now) === fsOf(old)) return 'old';
  const p = now.partitions[0];
  if (now.table === 'mbr' && p && /^FAT/.test(p.fs) && fsck(img, p.start, p.sectors)) return 'new';
  return 'neither';
}

/** After the re-run: the new volume is clean, the bootloader flashed our build, mtools reads it. */
async function judgeFinal(c, img, fw, what) {
  const now = await probe(img);
  const p = now.partitions[0];
  if (now.table !== 'mbr' || !p || !fsck(img, p.start, p.sectors)) {
    c.fsckFailuresAfterRerun++;
    problems.push(`${what}: fsck.fat refused the volume after the re-run`);
    return;
  }
  const r = spawnSync('mcopy', ['-n', '-i', `${img}@@${p.start * 512}`, '::/FIRMWARE.CUR', join(scratch, 'cur.bin')], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  if (r.status !== 0) {
    c.rerunFailures++;
    problems.push(`${what}: no FIRMWARE.CUR after the re-run (the bootloader did not flash)`);
  }
}

function rig(img, faults) {
  const image = openImageFile(img);
  const card = new EmulatedSdCard({ device: image, capacityType: 'SDSC' });
  const sim = startSimulator({ board: BOARD, card, link: { kind: 'usb' }, latencyMs: 0.05, bootMs: 100, version: 'v0.12.0-old', statsIntervalMs: 0, ...(faults ? { faults } : {}) });
  return { sim, async close() { sim.close(); await image.close(); } };
}

async function bounded(r, fw, extra, limitMs = 120_000) {
  let timer;
  const run = flashSdcard({ device: `sim:repair-${process.pid}`, board: BOARD, firmware: fw.bin, dictionary: fw.dict, transport: () => r.sim.connect(), connectTimeoutMs: 8000, reconnectTimeoutMs: 8000, ...extra })
    .then((x) => ({ ok: true, x }), (e) => ({ ok: false, e }));
  const out = await Promise.race([run, new Promise((res) => (timer = setTimeout(() => res({ hang: true }), limitMs)))]);
  clearTimeout(timer);
  if (out.hang) r.sim.close();
  return out;
}

/** Rerun (no --format: the record completes an unfinished repair; --format for a card left old). */
async function rerun(c, img, fw, what) {
  const r = rig(img);
  try {
    const out = await bounded(r, fw, { format: true, confirmRepair: async () => true });
    if (out.hang) return void (c.hangs++, problems.push(`${what}: the re-run hung`));
    if (!out.ok || out.x.verification !== 'dictionary') return void (c.rerunFailures++, problems.push(`${what}: the re-run failed: ${out.e?.code ?? out.e?.message ?? out.x?.verification}`));
    if (out.x.repair?.status === 'resumed' && out.x.repair.resumed.status === 'completed') c.rerunCompletedFromRecord++;
  } finally {
    await r.close();
  }
  await judgeFinal(c, img, fw, what);
}

async function unplugCampaign() {
  for (const kind of KINDS) {
    const c = cell(`unplug during the repair (${kind})`);
    for (let i = 0; i < runs; i++) {
      c.runs++;
      const img = join(scratch, 'unplug.img');
      makeCard(img, kind);
      const old = await probe(img);
      const fw = build(`v0.13.0-u${i}`);
      // The cable is pulled right after the repair's k-th write (a progress event follows each):
      // the repair has 6 (exFAT, NTFS) to 8 (GPT) writes; past them the run completes uncut.
      const k = 1 + Math.floor(rand() * 9);
      const frac = k;
      const r = rig(img);
      let pulled = false;
      let seen = 0;
      try {
        const out = await bounded(r, fw, {
          format: true, confirmRepair: async () => true,
          onProgress: (e) => {
            if (!pulled && e.phase === 'format' && (e.bytes ?? 0) > 0 && !e.done && ++seen === k) {
              pulled = true;
              r.sim.disconnect();
            }
          },
        });
        if (out.hang) {
          c.hangs++;
          problems.push(`unplug ${kind} after write ${frac} hung`);
          continue;
        }
      } finally {
        await r.close();
      }
      const v = await view(img, old);
      if (v === 'neither') {
        c.unreadableByBoth++;
        problems.push(`unplug ${kind} after write ${frac}: the card reads as neither old nor new`);
      } else if (!pulled) c.completedNoCut++;
      else c[v === 'old' ? 'cutOld' : 'cutNew']++;
      await rerun(c, img, fw, `unplug ${kind} after write ${frac}`);
    }
  }
}

async function noiseCampaign() {
  for (const rate of [1e-4, 5e-4]) {
    const c = cell(`link noise ${rate} (drop/flip/dup per byte)`);
    for (let i = 0; i < runs; i++) {
      c.runs++;
      const kind = KINDS[i % KINDS.length];
      const img = join(scratch, 'noise.img');
      makeCard(img, kind);
      const old = await probe(img);
      const fw = build(`v0.13.0-n${i}`);
      const r = rig(img, { dropRate: rate, flipRate: rate, duplicateRate: rate / 2, seed: seed + i });
      let out;
      try {
        out = await bounded(r, fw, { format: true, confirmRepair: async () => true });
      } finally {
        await r.close();
      }
      if (out.hang) {
        c.hangs++;
        problems.push(`noise ${rate} ${kind} hung`);
        continue;
      }
      const v = await view(img, old);
      if (v === 'neither') {
        c.unreadableByBoth++;
        problems.push(`noise ${rate} ${kind}: neither old nor new (${out.ok ? 'run succeeded' : out.e?.code})`);
      } else if (out.ok) c.completedNoCut++;
      else c[v === 'old' ? 'cutOld' : 'cutNew']++;
      await rerun(c, img, fw, `noise ${rate} ${kind}`);
    }
  }
}

async function killCampaign() {
  const c = cell('SIGKILL flash-sdcard --format --yes');
  for (let i = 0; i < runs; i++) {
    c.runs++;
    const kind = KINDS[i % KINDS.length];
    const img = join(scratch, 'kill.img');
    makeCard(img, kind);
    const old = await probe(img);
    const fw = build(`v0.13.0-k${i}`);
    const tty = join(scratch, `kill-tty-${i}`);
    const sim = spawn(process.execPath, [cli, 'simulate', '--board', BOARD, '--card', img, '--port-link', tty], { stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    sim.stdout.on('data', (b) => (said += b));
    sim.stderr.on('data', (b) => (said += b));
    while (!said.includes('serial port:')) {
      if (sim.exitCode !== null) throw new Error(`simulate did not start: ${said}`);
      await sleep(50);
    }
    // The kill falls at a random moment after the repair's first progress line (its writes take
    // two to four seconds here), so that it lands inside the repair, not in connecting.
    const at = Math.floor(rand() * 5000);
    const child = spawn(process.execPath, [cli, 'flash-sdcard', '--format', '--yes', '-f', fw.bin, '-d', fw.dict, tty, BOARD], { stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
    const done = new Promise((res) => child.once('exit', res));
    let err = '';
    const started = new Promise((res) => child.stderr.on('data', (b) => ((err += b), err.includes('writing the new FAT volume') && res())));
    await Promise.race([started, done]);
    await Promise.race([sleep(at), done]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await done;
    await sleep(500);
    sim.kill('SIGTERM');
    await new Promise((res) => sim.once('exit', res));
    const v = await view(img, old);
    if (v === 'neither') {
      c.unreadableByBoth++;
      problems.push(`SIGKILL ${kind} at ${at} ms: neither old nor new`);
    } else c[v === 'old' ? 'cutOld' : 'cutNew']++;
    await rerun(c, img, fw, `SIGKILL ${kind} at ${at} ms`);
  }
}

const t0 = Date.now();
try {
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : ['unplug', 'kill', 'noise'];
  if (only.includes('unplug')) await unplugCampaign();
  if (only.includes('kill')) await killCampaign();
  if (only.includes('noise')) await noiseCampaign();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const total = Object.values(counts).reduce((a, c) => ({ unreadableByBoth: a.unreadableByBoth + c.unreadableByBoth, fsck: a.fsck + c.fsckFailuresAfterRerun, hangs: a.hangs + c.hangs, rerun: a.rerun + c.rerunFailures }), { unreadableByBoth: 0, fsck: 0, hangs: 0, rerun: 0 });
const report = { campaign: 'repair', seed, runsPerCell: runs, seconds: (Date.now() - t0) / 1000, cells: counts, totals: total, problems };
if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
else {
  for (const [name, c] of Object.entries(counts)) process.stdout.write(`${name}: ${JSON.stringify(c)}\n`);
  process.stdout.write(`totals: ${total.unreadableByBoth} cards unreadable by both views, ${total.fsck} fsck failures after the re-run, ${total.hangs} hangs, ${total.rerun} failed re-runs (${report.seconds.toFixed(0)} s)\n`);
  for (const p of problems) process.stdout.write(`  ${p}\n`);
}
if (total.unreadableByBoth || total.fsck || total.hangs || total.rerun) process.exitCode = 1;

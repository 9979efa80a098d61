#!/usr/bin/env node
// Benchmark: `fwcard check <serial port> --board btt-skr-v1.3`, the card check through the
// board's MCU, via `fwcard simulate` (a real pty) on the 250000-baud UART and the USB link
// models, on two cards made by the real tools: a 64 GiB exFAT card (sparse image, mkfs.exfat
// through a loop device) and a good 8 GiB card (fwcard prepare). The reference, measured in the
// same run, is the PC check of the same image; the ratio to the raw link says how close the
// check comes to moving just the bytes it read over the UART.
// Usage: node bench/check-remote.js [--json] [--runs N]   (needs a build: npm run build)
import { startSimulator } from './lib/simulator.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`Usage: node bench/check-remote.js [--json] [--runs N]

Times \`fwcard check <serial port> --board btt-skr-v1.3\` through \`fwcard simulate\` on the
250000-baud UART and USB link models, on a 64 GiB exFAT card and a good 8 GiB FAT32 card, against
the PC check of the same image. Prints seconds (as the check reports them and wall time), card
bytes read, serial bytes each way, SD-bus round trips, and ratios: to the PC check, and to moving
the bytes read over the raw UART. Medians of N runs (default 1). Needs root for losetup (the
exFAT card) and a build (npm run build).

Options:
  --json        one JSON document on stdout
  --runs N      runs of each case; the medians are printed (default 1)
  -h, --help    print this help and exit`);
  process.exit(0);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'fwcard.js');
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1] || 1) || 1;
const board = 'btt-skr-v1.3';
const GiB = 1024 ** 3;
const { makeSyntheticFirmware } = await (await import(join(root, 'fixtures', 'load-synth.mjs'))).loadSynth();

const dir = mkdtempSync(join(tmpdir(), 'fwcard-bench-checkremote-'));

function must(cmd, argv, input) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', input: input ?? '' });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** MBR + an exFAT partition over the whole 64 GiB sparse card, formatted through a loop device. */
function exfatCard(path) {
  writeFileSync(path, '');
  truncateSync(path, 64 * GiB);
  must('sfdisk', ['-q', '--no-reread', '--no-tell-kernel', path], 'label: dos\nstart=32768, type=7\n');
  const loop = must('losetup', ['-f', '--show', '-o', String(32768 * 512), path]).trim();
  try {
    must('mkfs.exfat', [loop]);
  } finally {
    spawnSync('losetup', ['-d', loop]);
  }
}

function goodCard(path) {
  const fw = makeSyntheticFirmware({ mcu: 'lpc1768', flashStart: 0x4000, size: 45000, klipper: { version: 'v0.13.0-bench' } });
  const bin = join(dir, 'klipper.bin');
  writeFileSync(bin, fw.bytes);
  must(process.execPath, [cli, 'prepare', path, '--size', '8G', '--board', board, '--firmware', bin, '--yes', '--quiet']);
}

function checkJson(target) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'check', target, '--board', board, '--json', '-q'], { encoding: 'utf8', timeout: 300000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`check ${target} failed: ${r.stdout}${r.stderr}`);
  return { doc: JSON.parse(r.stdout), wall, status: r.status };
}

async function overMcu(card, link, name) {
  const tty = join(dir, `tty-${name}`);
  const sim = await startSimulator({ cli, board, card, link, tty });
  try {
    return checkJson(tty);
  } finally {
    sim.kill('SIGTERM');
    await new Promise((res) => sim.once('exit', res));
  }
}

const median = (xs, key) => [...xs].sort((a, b) => key(a) - key(b))[Math.floor(xs.length / 2)];
const links = [
  { link: 'uart:250000', rawBytesPerSecond: 250000 / 10 },
  { link: 'usb', rawBytesPerSecond: null },
];
const cards = [
  { name: 'exfat-64G', make: exfatCard },
  { name: 'good-8G', make: goodCard },
];
const results = [];
try {
  for (const c of cards) {
    const img = join(dir, `${c.name}.img`);
    for (const l of links) {
      const samples = [];
      for (let i = 0; i < runs; i++) {
        // A fresh card each run: the reset at the end lets the simulated bootloader flash (and rename) the firmware.
        rmSync(img, { force: true });
        c.make(img);
        const pc = checkJson(img);
        const mcu = await overMcu(img, l.link, `${c.name}-${l.link.replace(/\W/g, '')}`);
        samples.push({ pc, mcu });
      }
      const m = median(samples, (s) => s.mcu.doc.seconds);
      const d = m.mcu.doc;
      results.push({
        card: c.name,
        link: l.link,
        exitCode: m.mcu.status,
        sameFindings: JSON.stringify(d.findings.map((f) => f.id)) === JSON.stringify(m.pc.doc.findings.map((f) => f.id)),
        seconds: d.seconds,
        wallSeconds: m.mcu.wall,
        bytesRead: d.bytesRead,
        bytesToMcu: d.mcu.serial?.bytesToMcu ?? null,
        bytesFromMcu: d.mcu.serial?.bytesFromMcu ?? null,
        roundTrips: d.mcu.serial?.roundTrips ?? null,
        retransmits: d.mcu.serial?.retransmits ?? null,
        pcSeconds: m.pc.doc.seconds,
        pcBytesRead: m.pc.doc.bytesRead,
        ratioToPc: d.seconds / Math.max(m.pc.doc.seconds, 0.001),
        // How long the bytes read would take on the raw UART, over how long the check took.
        ratioRawToActual: l.rawBytesPerSecond ? d.bytesRead / l.rawBytesPerSecond / d.seconds : null,
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (json) {
  process.stdout.write(JSON.stringify({ benchmark: 'check-remote', board, runs, results }, null, 2) + '\n');
} else {
  console.log(`fwcard check <serial port> --board ${board} via fwcard simulate, median of ${runs}; reference: the PC check of the same image`);
  console.log('card       | link        | exit | same ids | seconds | wall s | bytes read | to MCU | from MCU | round trips | PC s  | × PC   | raw/actual');
  for (const r of results) {
    console.log(
      `${r.card.padEnd(10)} | ${r.link.padEnd(11)} | ${String(r.exitCode).padStart(4)} | ${String(r.sameFindings).padStart(8)} | ${r.seconds.toFixed(2).padStart(7)} | ${r.wallSeconds.toFixed(2).padStart(6)} | ${String(r.bytesRead).padStart(10)} | ${String(r.bytesToMcu).padStart(6)} | ${String(r.bytesFromMcu).padStart(8)} | ${String(r.roundTrips).padStart(11)} | ${r.pcSeconds.toFixed(2).padStart(5)} | ${r.ratioToPc.toFixed(0).padStart(6)} | ${r.ratioRawToActual === null ? '-' : r.ratioRawToActual.toFixed(3)}`,
    );
  }
}

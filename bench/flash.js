#!/usr/bin/env node
// Benchmark: flash-sdcard of a 45,000-byte firmware through `fwcard simulate` (a real pty) on a
// 250000-baud UART link model and on a USB link model: the whole run (start to verified, with
// the reset, the reconnect and the check after it) and its upload + read-back. Prints seconds,
// firmware bytes/s, serial bytes each way, SD-bus round trips and the ratio of the firmware
// rate to the link's raw byte rate, all measured in this run, against issue 15's targets.
// Usage: node bench/flash.js [--json] [--runs N]; FWCARD_BENCH_FAST_SPI=1 adds -s (4 MHz SPI).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSynth } from '../fixtures/load-synth.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'fwcard.js');
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`Usage: node bench/flash.js [--json] [--runs N] [--in-process]

flash-sdcard upload + read-back of a 45,000-byte firmware through \`fwcard simulate\` (a real
pty) on a 250000-baud UART model and a USB model. Prints seconds, firmware bytes/s, serial bytes
each way, SD-bus round trips and the ratio to the link's raw byte rate. Needs dist/
(npm run build), socat, fdisk and dosfstools.

Options:
  --json        one JSON document on stdout
  --runs N      runs per link model; the median is reported (default 1)
  --in-process  host and simulated board in this one process: no pty, no socat, no second
                process (what is left is the protocol and the link model); total = the flow
  -h, --help    print this help and exit
Environment: FWCARD_BENCH_FAST_SPI=1 adds -s (4 MHz SPI).`);
  process.exit(0);
}
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1] || 1) || 1;
const inProcess = args.includes('--in-process');
// The synthetic firmware generator lives in fixtures/synth/ (test-only code, not in dist/).
const { makeSyntheticFirmware } = await loadSynth();

const dir = mkdtempSync(join(tmpdir(), 'fwcard-bench-flash-'));
const board = 'btt-skr-v1.3';
// The build a user of each link flashes: a UART build declares SERIAL_BAUD and RECEIVE_WINDOW
// (src/generic/serial_irq.c), which bound what the host sends after the reset; a USB build does not.
for (const [kind, itf] of [['uart', { kind: 'serial', baud: 250000 }], ['usb', { kind: 'usb' }]]) {
  const fw = makeSyntheticFirmware({ mcu: 'lpc1768', flashStart: 0x4000, size: 45000, klipper: { version: 'v0.13.0-bench', interface: itf } });
  writeFileSync(join(dir, `klipper-${kind}.bin`), fw.bytes);
  writeFileSync(join(dir, `klipper-${kind}.dict`), fw.dictionaryJson);
}

function makeCard(path) {
  writeFileSync(path, '');
  truncateSync(path, 64 * 1024 * 1024);
  spawnSync('sfdisk', ['-q', path], { input: 'label: dos\nstart=2048, type=e\n' });
  spawnSync('mkfs.fat', ['-F', '16', '-h', '2048', '--offset=2048', path, String((131072 - 2048) / 2)], { stdio: 'ignore' });
}

/** The same update with host and simulator in this process (dist/ modules, the simulator's own transport). */
async function onceInProcess(link) {
  const path = join(dir, `card-${link.replace(/\W/g, '')}.img`);
  makeCard(path);
  const [{ startSimulator }, { EmulatedSdCard }, { openImageFile }, { flashSdcard }] = await Promise.all(
    ['sim/simulator.js', 'sim/sd-card/emulated-card.js', 'disk/image-file.js', 'flows/flash-sdcard/index.js'].map((m) => import(join(root, 'dist', m))),
  );
  const image = openImageFile(path);
  const sim = startSimulator({ board, card: new EmulatedSdCard({ device: image, capacityType: 'SDSC' }), link: link.startsWith('uart') ? { kind: 'uart', baud: Number(link.split(':')[1]) } : { kind: 'usb' } });
  try {
    const kind = link.split(':')[0];
    const r = await flashSdcard({ device: `sim:${board}`, board, firmware: join(dir, `klipper-${kind}.bin`), dictionary: join(dir, `klipper-${kind}.dict`), fastSpi: !!process.env.FWCARD_BENCH_FAST_SPI, transport: () => sim.connect(), connectTimeoutMs: 8000, reconnectTimeoutMs: 8000 });
    return { ...r, wallMs: r.durationMs };
  } finally {
    await sim.close();
    await image.close();
  }
}

async function once(link) {
  if (inProcess) return onceInProcess(link);
  const card = join(dir, `card-${link.replace(/\W/g, '')}.img`);
  const tty = join(dir, `tty-${link.replace(/\W/g, '')}`);
  makeCard(card);
  const sim = spawn(process.execPath, [cli, 'simulate', '--board', board, '--card', card, '--link', link, '--port-link', tty], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sim.stdout.on('data', (b) => (out += b));
  sim.stderr.on('data', (b) => (out += b));
  const deadline = Date.now() + 15000;
  while (!out.includes('serial port:')) {
    if (sim.exitCode !== null || Date.now() > deadline) throw new Error(`simulate did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [cli, 'flash-sdcard', ...(process.env.FWCARD_BENCH_FAST_SPI ? ['-s'] : []), '-f', join(dir, `klipper-${link.split(':')[0]}.bin`), '-d', join(dir, `klipper-${link.split(':')[0]}.dict`), '--json', '-q', tty, board], { encoding: 'utf8', timeout: 300000 });
    if (r.status !== 0) throw new Error(`flash-sdcard failed on ${link}: ${r.stdout}${r.stderr}`);
    // The process's wall time: node's start, connecting, … the last reset, exit.
    return { ...JSON.parse(r.stdout), wallMs: Date.now() - t0 };
  } finally {
    sim.kill('SIGTERM');
    await new Promise((res) => sim.once('exit', res));
  }
}

const links = [
  { link: 'uart:250000', rawBytesPerSecond: 250000 / 10 },
  { link: 'usb', rawBytesPerSecond: null },
];
const results = [];
try {
  for (const l of links) {
    const samples = [];
    for (let i = 0; i < runs; i++) samples.push(await once(l.link));
    const median = (k) => [...samples].sort((a, b) => a[k] - b[k])[Math.floor(samples.length / 2)][k];
    samples.sort((a, b) => a.uploadMs - b.uploadMs);
    const m = samples[Math.floor(samples.length / 2)];
    const totalSeconds = median('wallMs') / 1000;
    results.push({
      link: l.link,
      firmwareBytes: m.firmwareSize,
      seconds: m.uploadMs / 1000,
      totalSeconds,
      flowSeconds: median('durationMs') / 1000,
      samples: samples.map((x) => ({ uploadSeconds: x.uploadMs / 1000, totalSeconds: x.wallMs / 1000, flowSeconds: x.durationMs / 1000 })),
      firmwareBytesPerSecond: m.bytesPerSecond,
      bytesToMcu: m.link?.bytesToMcu ?? null,
      bytesFromMcu: m.link?.bytesFromMcu ?? null,
      roundTrips: m.link?.roundTrips ?? null,
      retransmits: m.link?.retransmits ?? null,
      verification: m.verification,
      // Upload + read-back moves the firmware twice: once each way on a full-duplex link.
      ratioToRawRate: l.rawBytesPerSecond ? m.bytesPerSecond / l.rawBytesPerSecond : null,
      // Issue 15: UART ≤ 5.4 s upload + read-back and ≤ 9 s in all; USB ≤ 5 s in all.
      targetSeconds: l.link.startsWith('uart:250000') ? 5.4 : null,
      targetTotalSeconds: l.link.startsWith('uart:250000') ? 9 : 5,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (json) {
  process.stdout.write(JSON.stringify({ benchmark: 'flash-sdcard', board, inProcess, results }, null, 2) + '\n');
} else {
  console.log(`flash-sdcard of a 45,000-byte firmware via ${inProcess ? 'a simulator in the same process' : 'fwcard simulate'} (${board}), median of ${runs}; load average ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs`);
  console.log('link         | total s | upload+read-back s | fw bytes/s | to MCU bytes | from MCU bytes | round trips | retransmits | ratio to raw link rate | target');
  for (const r of results) {
    console.log(`${r.link.padEnd(12)} | ${r.totalSeconds.toFixed(2).padStart(7)} | ${r.seconds.toFixed(2).padStart(18)} | ${String(r.firmwareBytesPerSecond).padStart(10)} | ${String(r.bytesToMcu).padStart(12)} | ${String(r.bytesFromMcu).padStart(14)} | ${String(r.roundTrips).padStart(11)} | ${String(r.retransmits).padStart(11)} | ${r.ratioToRawRate === null ? '-'.padStart(22) : r.ratioToRawRate.toFixed(3).padStart(22)} | ${[r.targetSeconds ? `upload ≤ ${r.targetSeconds} s ${r.seconds <= r.targetSeconds ? 'met' : 'MISSED'}` : '', `total ≤ ${r.targetTotalSeconds} s ${r.totalSeconds <= r.targetTotalSeconds ? 'met' : 'MISSED'}`].filter(Boolean).join(', ')}`);
    console.log(`  runs (process wall / flow / upload + read-back, s): ${r.samples.map((x) => `${x.totalSeconds.toFixed(2)}/${x.flowSeconds.toFixed(2)}/${x.uploadSeconds.toFixed(2)}`).join('  ')}`);
  }
}

#!/usr/bin/env node
// Benchmark: flash-sdcard upload + read-back of a 45,000-byte firmware through `fwcard simulate`
// (a real pty) on a 250000-baud UART link model and on a USB link model. Prints seconds,
// firmware bytes/s, serial bytes each way, SD-bus round trips and the ratio of the firmware
// rate to the link's raw byte rate, all measured in this run.
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
const json = args.includes('--json');
const runs = Number(args[args.indexOf('--runs') + 1] || 1) || 1;
// The synthetic firmware generator lives in fixtures/synth/ (test-only code, not in dist/).
const { makeSyntheticFirmware } = await loadSynth();

const dir = mkdtempSync(join(tmpdir(), 'fwcard-bench-flash-'));
const board = 'btt-skr-v1.3';
const fw = makeSyntheticFirmware({ mcu: 'lpc1768', flashStart: 0x4000, size: 45000, klipper: { version: 'v0.13.0-bench' } });
writeFileSync(join(dir, 'klipper.bin'), fw.bytes);
writeFileSync(join(dir, 'klipper.dict'), fw.dictionaryJson);

function makeCard(path) {
  writeFileSync(path, '');
  truncateSync(path, 64 * 1024 * 1024);
  spawnSync('sfdisk', ['-q', path], { input: 'label: dos\nstart=2048, type=e\n' });
  spawnSync('mkfs.fat', ['-F', '16', '-h', '2048', '--offset=2048', path, String((131072 - 2048) / 2)], { stdio: 'ignore' });
}

async function once(link) {
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
    const r = spawnSync(process.execPath, [cli, 'flash-sdcard', ...(process.env.FWCARD_BENCH_FAST_SPI ? ['-s'] : []), '-f', join(dir, 'klipper.bin'), '-d', join(dir, 'klipper.dict'), '--json', '-q', tty, board], { encoding: 'utf8', timeout: 300000 });
    if (r.status !== 0) throw new Error(`flash-sdcard failed on ${link}: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout);
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
    samples.sort((a, b) => a.uploadMs - b.uploadMs);
    const m = samples[Math.floor(samples.length / 2)];
    results.push({
      link: l.link,
      firmwareBytes: m.firmwareSize,
      seconds: m.uploadMs / 1000,
      firmwareBytesPerSecond: m.bytesPerSecond,
      bytesToMcu: m.link?.bytesToMcu ?? null,
      bytesFromMcu: m.link?.bytesFromMcu ?? null,
      roundTrips: m.link?.roundTrips ?? null,
      retransmits: m.link?.retransmits ?? null,
      verification: m.verification,
      // Upload + read-back moves the firmware twice: once each way on a full-duplex link.
      ratioToRawRate: l.rawBytesPerSecond ? m.bytesPerSecond / l.rawBytesPerSecond : null,
      targetSeconds: l.link.startsWith('uart:250000') ? 6 : null,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (json) {
  process.stdout.write(JSON.stringify({ benchmark: 'flash-sdcard', board, results }, null, 2) + '\n');
} else {
  console.log(`flash-sdcard upload + read-back of a 45,000-byte firmware via fwcard simulate (${board}), median of ${runs}`);
  console.log('link         | seconds | fw bytes/s | to MCU bytes | from MCU bytes | round trips | retransmits | ratio to raw link rate | target');
  for (const r of results) {
    console.log(`${r.link.padEnd(12)} | ${r.seconds.toFixed(2).padStart(7)} | ${String(r.firmwareBytesPerSecond).padStart(10)} | ${String(r.bytesToMcu).padStart(12)} | ${String(r.bytesFromMcu).padStart(14)} | ${String(r.roundTrips).padStart(11)} | ${String(r.retransmits).padStart(11)} | ${r.ratioToRawRate === null ? '-'.padStart(22) : r.ratioToRawRate.toFixed(3).padStart(22)} | ${r.targetSeconds ? `≤ ${r.targetSeconds} s ${r.seconds <= r.targetSeconds ? 'met' : 'MISSED'}` : '-'}`);
  }
}

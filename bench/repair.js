#!/usr/bin/env node
// Benchmark: `flash-sdcard --format --yes` end to end (connect, judge the card, re-create it,
// upload + read back a 45,000-byte build, reset, the simulated bootloader flashes it, reconnect,
// verify) on a 64 GiB card that the SKR 1.3's bootloader cannot read, through `fwcard simulate`
// (a real pty) on the 250000-baud UART model and on the USB model. Cards: exFAT (MBR, volume at
// 16 MiB, as the SD Formatter leaves SDXC cards) and GPT (sgdisk, exFAT inside). The reference in
// the same run: the same flash of a card that needs no repair (64 MiB FAT16). Prints wall seconds,
// the seconds the repair itself took, bytes it wrote, and the ratio to the reference.
// Usage: node bench/repair.js [--json] [--help]. Targets (issue 17): UART ≤ 25 s, USB ≤ 10 s.
import { execFileSync, spawnSync } from 'node:child_process';
import { startSimulator } from './lib/simulator.js';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`Usage: node bench/repair.js [--json]

flash-sdcard --format --yes on simulated 64 GiB exFAT and GPT cards in an SKR 1.3 (UART 250000
and USB models), end to end, against the same flash of a card that needs no repair. Targets
(issue 17): UART at most 25 s, USB at most 10 s. Needs root (losetup), mkfs.exfat, sgdisk and
socat; run \`npm run build\` first.

Options:
  --json        one JSON document on stdout
  -h, --help    print this help and exit`);
  process.exit(0);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'fwcard.js');
const json = args.includes('--json');
const { loadSynth } = await import(join(root, 'fixtures', 'load-synth.mjs'));
const { makeSyntheticFirmware } = await loadSynth();

const dir = mkdtempSync(join(tmpdir(), 'fwcard-bench-repair-'));
const env = { ...process.env, FWCARD_STATE_DIR: join(dir, 'state'), FWCARD_LOCK_DIR: join(dir, 'locks') };
const board = 'btt-skr-v1.3';
const fw = makeSyntheticFirmware({ mcu: 'lpc1768', flashStart: 0x4000, size: 45000, klipper: { version: 'v0.13.0-bench' } });
writeFileSync(join(dir, 'klipper.bin'), fw.bytes);
writeFileSync(join(dir, 'klipper.dict'), fw.dictionaryJson);

function onLoop(path, offsetSectors, sectors, cmd, cmdArgs) {
  const dev = execFileSync('losetup', ['-f', '--show', '-o', String(offsetSectors * 512), '--sizelimit', String(sectors * 512), path], { encoding: 'utf8' }).trim();
  try {
    execFileSync(cmd, [...cmdArgs, dev], { stdio: 'ignore' });
  } finally {
    execFileSync('losetup', ['-d', dev]);
  }
}

function makeCard(path, kind) {
  writeFileSync(path, '');
  if (kind === 'good') {
    truncateSync(path, 64 * 1024 * 1024);
    spawnSync('sfdisk', ['-q', path], { input: 'label: dos\nstart=2048, type=e\n' });
    spawnSync('mkfs.fat', ['-F', '16', '-h', '2048', '--offset=2048', path, String((131072 - 2048) / 2)], { stdio: 'ignore' });
    return;
  }
  const sectors = 64 * 1024 * 1024 * 2; // 64 GiB
  truncateSync(path, sectors * 512);
  if (kind === 'exfat') {
    spawnSync('sfdisk', ['-q', path], { input: 'label: dos\nstart=32768, type=7\n' });
    onLoop(path, 32768, sectors - 32768, 'mkfs.exfat', ['-L', 'SDXC']);
  } else {
    execFileSync('sgdisk', ['-o', '-n', '1:2048:0', '-t', '1:0700', path], { stdio: 'ignore' });
    onLoop(path, 2048, sectors - 2048 - 34, 'mkfs.exfat', ['-L', 'GPTCARD']);
  }
}

async function once(link, kind) {
  const tag = `${kind}-${link.replace(/\W/g, '')}`;
  const card = join(dir, `card-${tag}.img`);
  const tty = join(dir, `tty-${tag}`);
  makeCard(card, kind);
  const sim = await startSimulator({ cli, board, card, link, tty, env });
  try {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [cli, 'flash-sdcard', '--format', '--yes', '-f', join(dir, 'klipper.bin'), '-d', join(dir, 'klipper.dict'), '--json', '-q', tty, board], { encoding: 'utf8', timeout: 300000, env });
    const wall = (Date.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`flash-sdcard --format failed on ${tag}: ${r.stdout}${r.stderr}`);
    const doc = JSON.parse(r.stdout);
    if (doc.verification !== 'dictionary') throw new Error(`${tag}: not verified by the dictionary: ${doc.verification}`);
    if ((kind === 'good') !== (doc.repair?.status === 'not-needed')) throw new Error(`${tag}: repair ${doc.repair?.status}`);
    return { wall, doc };
  } finally {
    sim.kill('SIGTERM');
    await new Promise((res) => sim.once('exit', res));
    rmSync(card, { force: true });
  }
}

const links = [
  { link: 'uart:250000', target: 25 },
  { link: 'usb', target: 10 },
];
const results = [];
try {
  for (const l of links) {
    const ref = await once(l.link, 'good');
    for (const kind of ['exfat', 'gpt']) {
      const { wall, doc } = await once(l.link, kind);
      results.push({
        link: l.link,
        card: `64 GiB ${kind === 'gpt' ? 'GPT (exFAT inside)' : 'exFAT (MBR)'}`,
        seconds: wall,
        repairSeconds: doc.repair.ms / 1000,
        repairBytes: doc.repair.bytesWritten,
        volume: `${doc.repair.summary.volume.fs} ${Math.round((doc.repair.summary.volume.sectors * 512) / 2 ** 20)} MiB at sector ${doc.repair.summary.volume.partitionStart}`,
        referenceSeconds: ref.wall,
        ratioToReference: wall / ref.wall,
        targetSeconds: l.target,
        withinTarget: wall <= l.target,
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (json) process.stdout.write(JSON.stringify({ bench: 'repair', results }, null, 2) + '\n');
else {
  for (const r of results) {
    process.stdout.write(`${r.link.padEnd(12)} ${r.card.padEnd(24)} ${r.seconds.toFixed(1)} s end to end (target ≤ ${r.targetSeconds} s: ${r.withinTarget ? 'met' : 'MISSED'}); repair ${r.repairSeconds.toFixed(2)} s, ${r.repairBytes} bytes, ${r.volume}; no-repair reference ${r.referenceSeconds.toFixed(1)} s (×${r.ratioToReference.toFixed(2)})\n`);
  }
}
if (results.some((r) => !r.withinTarget)) process.exitCode = 1;

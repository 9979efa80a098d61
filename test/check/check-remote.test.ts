import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCardOverMcu } from '../../src/flows/check-remote.js';
import { build } from '../flash-sdcard/helpers.js';
import { CLI, attachLoop, detachLoop, mdir, removeDir, runCli, tempDir, unwrapped } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { GiB, MiB, blank, mcopy, mkfsFat, placeFs, run, sfdisk } from './cards.js';

// `fwcard check <serial port> --board B` end to end as a user runs it: `fwcard simulate` serves a
// card image behind a real pty, and the check reads that card through the simulated MCU. Every
// card is made by the real tools (truncate, sfdisk, sgdisk, mkfs.exfat, mkntfs, mkfs.fat, fwcard
// prepare), and the judge of the verdict is the PC check of the very same image.
const dir = tempDir('fwcard-checkremote-');
// Port locks are keyed by the pty's /dev/pts/N, which other fwcard runs on this machine reuse:
// keep this file's locks to itself (the CLI runs and simulators inherit it).
process.env.FWCARD_LOCK_DIR = join(dir, 'locks');
const sims = new SimulateProcesses();
const others: ChildProcess[] = [];
afterAll(async () => {
  await sims.stopAll();
  for (const c of others) c.kill('SIGTERM');
  removeDir(dir);
});

const SCHEMAS = join(process.cwd(), 'docs', 'schemas');
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
for (const f of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, f), 'utf8')));
function schemaErrors(doc: unknown): string {
  const v = ajv.getSchema('check.schema.json')!;
  return v(doc) ? '' : ajv.errorsText(v.errors);
}

const KiB = 1024;
/** What the PC check of a 128 GB card reads is about 100 KiB; over serial it must stay in that range. */
const READ_BOUND = 256 * KiB;

interface Doc {
  ok: boolean;
  findings: { id: string; severity: string; hint: string; remedy?: { argv: string[] } }[];
  card: Record<string, unknown>;
  bytesRead: number;
  seconds: number;
  mcu?: { bus: string; mcu: string; card: { bus: string }; serial: { bytesToMcu: number; bytesFromMcu: number } | null };
}

function checkJson(args: string[]): { status: number | null; doc: Doc; stderr: string } {
  const r = runCli(['check', ...args, '--json']);
  let doc: Doc;
  try {
    doc = JSON.parse(r.stdout) as Doc;
  } catch {
    throw new Error(`not one JSON document:\n${r.stdout}\n${r.stderr}`);
  }
  return { status: r.status, doc, stderr: r.stderr };
}

const ids = (d: Doc) => d.findings.map((f) => f.id);
/** The card facts a check through an MCU shares with the PC's: all but the device name, and (FAT12/16) the used space. */
const comparable = (card: Record<string, unknown>, o: { ignoreUsed?: boolean } = {}) => ({
  ...card,
  device: null,
  partitions: (card.partitions as { content: Record<string, unknown> | null }[]).map((p) => (o.ignoreUsed && p.content ? { ...p, content: { ...p.content, usedBytes: null } } : p)),
});

/** The PC check and the check through the simulated board of one image: same verdict, ids, card facts. */
async function compare(img: string, board: string, link: string[], name: string, o: { boardsFile?: string; afterCheck?: () => Promise<void>; ignoreUsed?: boolean } = {}): Promise<{ pc: Doc; remote: Doc; status: number | null; tty: string }> {
  const extra = o.boardsFile ? ['--boards-file', o.boardsFile] : [];
  const pc = checkJson([img, '--board', board, ...extra]);
  expect(pc.status, pc.stderr).not.toBe(2);
  const tty = join(dir, name);
  const sim = await sims.start(['--board', board, '--card', img, ...link, '--port-link', tty]);
  const r = checkJson([tty, '--board', board, ...extra]);
  await o.afterCheck?.();
  await sims.stop(sim);
  // With --json an error is the stdout document: show it when the exit code is not the PC's.
  expect(r.status, `${JSON.stringify((r.doc as { error?: unknown }).error ?? null)}\n${r.stderr}`).toBe(pc.status);
  expect(schemaErrors(r.doc)).toBe('');
  expect(ids(r.doc)).toEqual(ids(pc.doc));
  expect(r.doc.findings.map((f) => f.severity)).toEqual(pc.doc.findings.map((f) => f.severity));
  expect(comparable(r.doc.card, o)).toEqual(comparable(pc.doc.card, o));
  expect(r.doc.bytesRead).toBeGreaterThan(0);
  expect(r.doc.bytesRead).toBeLessThanOrEqual(READ_BOUND);
  expect(r.doc.seconds).toBeGreaterThan(0);
  return { pc: pc.doc, remote: r.doc, status: r.status, tty };
}

/** MBR + a card-sized partition formatted by `mkfs` through a loop device (no 64 GiB copy). */
function wholeCard(img: string, bytes: number, type: string, mkfs: (dev: string) => void): void {
  blank(img, bytes);
  sfdisk(img, `label: dos\nstart=32768, type=${type}\n`);
  const loop = attachLoop(img, 32768 * 512, undefined, false);
  try {
    mkfs(loop);
  } finally {
    detachLoop(loop);
  }
}

describe('fwcard check <serial port> --board B', () => {
  it('a 64 GiB exFAT card in an SKR 1.3 on the 250000-baud UART: exFAT, exit 1, the PC check\'s findings, flash-sdcard --format in the hint', async () => {
    const img = join(dir, 'exfat64.img');
    wholeCard(img, 64 * GiB, '7', (dev) => run('mkfs.exfat', [dev]));
    const { remote, status, tty } = await compare(img, 'btt-skr-v1.3', ['--link', 'uart:250000'], 'skr-exfat');
    expect(status).toBe(1);
    expect(remote.ok).toBe(false);
    expect(remote.findings[0]!.id).toBe('filesystem-exfat');
    expect(remote.card).toMatchObject({ sizeBytes: 64 * GiB, kind: 'SDXC', table: 'mbr' });
    expect(remote.mcu).toMatchObject({ mcu: 'lpc1768', bus: expect.stringMatching(/^SPI/), card: { bus: 'spi' } });
    // The fix works in the board: flash-sdcard --format over the same port, not prepare on a PC.
    expect(remote.findings[0]!.remedy!.argv).toEqual(['fwcard', 'flash-sdcard', '--format', tty, 'btt-skr-v1.3']);
    for (const f of remote.findings) expect(f.hint).not.toMatch(/fwcard prepare/);
    console.log(`exFAT 64 GiB over UART 250000: read ${remote.bytesRead} bytes in ${remote.seconds.toFixed(2)} s; serial ${JSON.stringify(remote.mcu!.serial)}`);
  });

  it('a good card (fwcard prepare) in an SKR 1.3: exit 0, the same findings, and the MCU is reset at the end', async () => {
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-remote');
    const img = join(dir, 'good.img');
    const prep = runCli(['prepare', img, '--size', '4G', '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--yes', '--json']);
    expect(prep.status, prep.stderr).toBe(0);
    const start = JSON.parse(prep.stdout).partitionStart as number;
    // Reset as Klipper's flash script leaves the MCU: the simulated bootloader then takes
    // firmware.bin and renames it, as a real board does at every reset (after its boot time).
    let listing = '';
    const flashed = async (): Promise<void> => {
      for (let i = 0; i < 100 && !/FIRMWARE\s+CUR/i.test(listing); i++) {
        await new Promise((r) => setTimeout(r, 100));
        listing = mdir(img, start * 512);
      }
    };
    const { remote, status } = await compare(img, 'btt-skr-v1.3', ['--link', 'uart:250000'], 'skr-good', { afterCheck: flashed });
    expect(status).toBe(0);
    expect(remote.ok).toBe(true);
    expect(listing).toMatch(/FIRMWARE\s+CUR/i);
    console.log(`good 4 GiB FAT32 over UART 250000: read ${remote.bytesRead} bytes in ${remote.seconds.toFixed(2)} s`);
  });

  it('a FAT16 card (mkfs.fat) over USB: the FAT is not counted for the used space over the link, everything else as on a PC', async () => {
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-fat16');
    const img = join(dir, 'fat16.img');
    blank(img, 64 * MiB);
    sfdisk(img, 'label: dos\nstart=2048, type=6\n');
    mkfsFat(img, ['-F', '16'], 2048, 64 * MiB / 512 - 2048);
    mcopy(img, 2048, fw.bin, 'firmware.bin');
    const { pc, remote, status } = await compare(img, 'btt-skr-v1.3', ['--link', 'usb'], 'skr-fat16', { ignoreUsed: true });
    expect(status).toBe(0);
    expect((pc.card.partitions as { content: { usedBytes: number | null } }[])[0]!.content.usedBytes).toBeGreaterThan(0);
    expect((remote.card.partitions as { content: { usedBytes: number | null } }[])[0]!.content.usedBytes).toBeNull();
    // The 30,000-byte firmware, the boot sectors, a FAT sector and the root's first sectors: not its 62 KiB of FAT.
    expect(remote.bytesRead).toBeLessThan(48 * KiB);
    expect(remote.bytesRead).toBeLessThan(pc.bytesRead);
  });

  it('a GPT card in an Octopus F446 (software SPI over USB): the same findings as on a PC', async () => {
    const img = join(dir, 'gpt.img');
    blank(img, 2 * GiB);
    run('sgdisk', ['-n', '1:2048:0', '-t', '1:0700', img]);
    mkfsFat(img, ['-F', '32'], 2048, 2 * GiB / 512 - 2048 - 34);
    const { remote, status, tty } = await compare(img, 'btt-octopus-f446-v1', ['--link', 'usb'], 'octopus-gpt');
    expect(status).toBe(1);
    expect(remote.mcu).toMatchObject({ mcu: 'stm32f446xx', bus: 'software SPI', card: { bus: 'spi' } });
    expect(ids(remote)).toContain('gpt-partition-table');
    const gpt = remote.findings.find((f) => f.id === 'gpt-partition-table')!;
    expect(gpt.remedy!.argv).toEqual(['fwcard', 'flash-sdcard', '--format', tty, 'btt-octopus-f446-v1']);
  });

  it('an NTFS card in an SDIO board (--boards-file, USB): the same findings; the human output says what was read and how long it took', async () => {
    // No catalog board reads its card over SDIO in Klipper's definitions: one from a boards file, as a user adds it.
    const boardsFile = join(dir, 'sdio-boards.json');
    writeFileSync(boardsFile, JSON.stringify({ boards: [{ name: 'octopus-sdio', extends: 'btt-octopus-f446-v1', klipper: { mcu: 'stm32f446xx', sdio_bus: 'sdio' } }] }));
    process.env.FWCARD_BOARDS = boardsFile; // for the simulator, which has no --boards-file
    const img = join(dir, 'ntfs.img');
    blank(img, 1 * GiB);
    sfdisk(img, 'label: dos\nstart=2048, type=7\n');
    placeFs(img, 2048, 256 * MiB, (p) => run('mkntfs', ['-F', '-Q', p]));
    const { remote, tty } = await compare(img, 'octopus-sdio', ['--link', 'usb'], 'sdio-ntfs', { boardsFile });
    expect(remote.mcu).toMatchObject({ bus: 'SDIO', card: { bus: 'sdio' } });
    expect(ids(remote)).toContain('filesystem-ntfs');
    const sim = await sims.start(['--board', 'octopus-sdio', '--card', img, '--link', 'usb', '--port-link', tty]);
    const human = runCli(['check', tty, '--board', 'octopus-sdio', '--boards-file', boardsFile, '--no-color']);
    await sims.stop(sim);
    delete process.env.FWCARD_BOARDS;
    expect(human.status).toBe(1);
    // Laid out for the width (issue 16): match the messages with their continuation lines joined.
    const text = unwrapped(human.stdout);
    expect(text).toMatch(/^card: the card in octopus-sdio on .*sdio-ntfs \(stm32f446xx, SDIO\)/m);
    expect(text).toMatch(/read [\d.]+ KiB of the card through the MCU in [\d.]+ s/);
    // The connection flags are repeated in the command the hint names.
    expect(text).toContain(`fwcard flash-sdcard --format --boards-file ${boardsFile} ${tty} octopus-sdio`);
  });

  it('-s and -b are taken as flash-sdcard takes them, and repeated in the hints', async () => {
    const img = join(dir, 'exfat-small.img');
    blank(img, 1 * GiB);
    sfdisk(img, 'label: dos\nstart=2048, type=7\n');
    placeFs(img, 2048, 64 * MiB, (p) => run('mkfs.exfat', [p]));
    const tty = join(dir, 'skr-115200');
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:115200', '--port-link', tty]);
    const r = checkJson([tty, '--board', 'btt-skr-v1.3', '-s', '-b', '115200']);
    await sims.stop(sim);
    expect(r.status, r.stderr).toBe(1);
    expect(r.doc.findings[0]!.remedy!.argv).toEqual(['fwcard', 'flash-sdcard', '--format', '-s', '-b', '115200', tty, 'btt-skr-v1.3']);
  });
});

describe('fwcard check <serial port>: Ctrl-C', () => {
  it('stops at the next sector read with exit 130 and interrupted, and still resets the MCU', async () => {
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-stop');
    const img = join(dir, 'stop.img');
    const prep = runCli(['prepare', img, '--size', '1G', '--board', 'btt-skr-v1.3', '--firmware', fw.bin, '--yes', '--json']);
    expect(prep.status, prep.stderr).toBe(0);
    const start = JSON.parse(prep.stdout).partitionStart as number;
    const tty = join(dir, 'skr-stop');
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--card', img, '--link', 'uart:250000', '--port-link', tty]);
    const c = spawn(process.execPath, [CLI, 'check', tty, '--board', 'btt-skr-v1.3', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout!.on('data', (b) => (out += b));
    c.stderr!.on('data', (b) => (err += b));
    // Stop once the card is being read (the 45 KB firmware takes seconds over this UART).
    for (let i = 0; i < 300 && !/reading the partition table/.test(err); i++) await new Promise((r) => setTimeout(r, 50));
    expect(err).toMatch(/reading the partition table/);
    c.kill('SIGINT');
    const code = await new Promise<number | null>((r) => c.once('exit', (n) => r(n)));
    expect(code, err).toBe(130);
    expect(JSON.parse(out)).toMatchObject({ ok: false, error: { code: 'interrupted', details: { state: 'untouched', where: 'while reading the card' } } });
    // The MCU was reset on the way out: the simulated bootloader flashed and renamed firmware.bin.
    let listing = '';
    for (let i = 0; i < 100 && !/FIRMWARE\s+CUR/i.test(listing); i++) {
      await new Promise((r) => setTimeout(r, 100));
      listing = mdir(img, start * 512);
    }
    await sims.stop(sim);
    expect(listing).toMatch(/FIRMWARE\s+CUR/i);
  });
});

describe('fwcard check <serial port>: what it refuses, typed with a hint', () => {
  /** A pty pair with nothing behind it: a port where no MCU answers. */
  async function silentPort(name: string): Promise<string> {
    const a = join(dir, `${name}-a`);
    const c = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${join(dir, `${name}-b`)}`], { stdio: 'ignore' });
    others.push(c);
    for (let i = 0; i < 100 && !existsSync(a); i++) await new Promise((r) => setTimeout(r, 50));
    return a;
  }

  it('no --board, an unknown --board, --fix: exit 2 with the code and a hint, nothing connected', async () => {
    const port = await silentPort('refuse');
    const none = checkJson([port]);
    expect(none.status).toBe(2);
    expect(none.doc).toMatchObject({ ok: false, error: { code: 'port-needs-board', hint: expect.stringContaining(`fwcard check ${port} --board <board>`) } });
    const bad = checkJson([port, '--board', 'skr-13-nonsense']);
    expect(bad.status).toBe(2);
    expect(bad.doc).toMatchObject({ ok: false, error: { code: 'unknown-board' } });
    // A board's port that is not there (a USB board away after a reset): waited for, then a serial hint.
    const away = checkJson(['/dev/serial/by-id/usb-Klipper_lpc1768_fwcard-test-absent-if00', '--board', 'btt-skr-v1.3']);
    expect(away.status).toBe(2);
    expect(away.doc).toMatchObject({ ok: false, error: { code: 'no-such-device', hint: expect.stringContaining('ls /dev/serial/by-id/') } });
    const fix = checkJson([port, '--board', 'btt-skr-v1.3', '--fix']);
    expect(fix.status).toBe(2);
    expect(fix.doc).toMatchObject({ ok: false, error: { code: 'fix-in-board', hint: expect.stringContaining('fwcard flash-sdcard') } });
  });

  it('a port where nothing answers: unable-to-connect with a hint, the port let go', async () => {
    const port = await silentPort('silent');
    const t0 = Date.now();
    const err = await checkCardOverMcu({ port, board: 'btt-skr-v1.3', connectTimeoutMs: 2500 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unable-to-connect', hint: expect.stringMatching(/baud rate|board runs Klipper/) });
    expect(Date.now() - t0).toBeLessThan(15_000);
    // The lock was released: a second attempt fails the same way, not with "port busy".
    const again = await checkCardOverMcu({ port, board: 'btt-skr-v1.3', connectTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 'unable-to-connect' });
  });
});

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { makeCard } from '../flash-sdcard/helpers.js';
import { removeDir, runCli, sfdiskJson, tempDir } from '../helpers/judges.js';

// doctor as a user runs it: real card images (made by fwcard prepare, or by sfdisk/mkfs for the
// broken ones), synthetic Klipper builds, and the commands of the plan executed to see they fix it.
const dir = tempDir('fwcard-doctor-');
afterAll(() => removeDir(dir));
// Keep a developer's own ~/.config/fwcard/boards.json out of the tests.
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');
// An empty USB tree, so that a board plugged into the developer's machine does not change the plan.
const NO_USB = { FWCARD_SYSFS_ROOT: join(dir, 'sys'), FWCARD_DEV_ROOT: join(dir, 'dev') };

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

function firmware(board: string, name: string, flashStart?: number): string {
  const b = loadCatalog({ noUserConfig: true }).get(board);
  const fw = makeSyntheticFirmware({ mcu: b.mcu, flashStart: flashStart ?? b.appStart.value[0]!, size: 24_000, klipper: { version: 'v0.13.0-doctor' } });
  const path = join(dir, name);
  writeFileSync(path, fw.bytes);
  return path;
}

function prepared(board: string, fw: string, name: string): { img: string; offset: number } {
  const img = join(dir, name);
  const r = runCli(['prepare', img, '--size', '64M', '--board', board, '--firmware', fw, '--yes', '--quiet']);
  expect(r.status, r.stderr).toBe(0);
  return { img, offset: sfdiskJson(img)!.partitions[0]!.start * 512 };
}

interface Step {
  id: string;
  kind: string;
  title: string;
  details: string[];
  commands: string[];
  resolves: string[];
}

function doctor(args: string[]): { status: number | null; doc: any; steps: Step[]; stderr: string } {
  const r = runCli(['doctor', '--json', ...args], { env: { FWCARD_BOARDS: NO_USER_BOARDS, ...NO_USB } });
  const doc = JSON.parse(r.stdout);
  return { status: r.status, doc, steps: doc.steps ?? [], stderr: r.stderr };
}

/** Run a `fwcard …` command from the plan the way the user would paste it. */
function runPlanCommand(cmd: string, extra: string[] = []) {
  const words = cmd.split(' ');
  expect(words[0]).toBe('fwcard');
  return runCli([...words.slice(1), ...extra]);
}

describe('fwcard doctor', () => {
  it('a good build on a good card for the Octopus: exit 0, both listed as fine, SDIO power-cycle told in the board\'s words', () => {
    const fw = firmware('btt-octopus-f446-v1', 'octo.bin');
    const { img } = prepared('btt-octopus-f446-v1', fw, 'octo.img');
    const { status, doc, steps } = doctor(['--board', 'btt-octopus-f446-v1', '--firmware', fw, '--card', img]);
    expect(status).toBe(0);
    expect(doc.ok).toBe(true);
    expect(doc.fine.join('\n')).toMatch(/linked for 0x08008000/);
    expect(doc.fine.join('\n')).toMatch(/byte-identical/);
    expect(steps.filter((s) => s.kind === 'fix')).toEqual([]);
    const power = steps.find((s) => s.id === 'power-up')!;
    expect(power.details.join('\n')).toContain('the Octopus reads the card over SDIO: after `fwcard flash-sdcard`, power-cycle it'.replace('the O', 'The O'));
    expect(power.commands).toContain('fwcard flash-sdcard -c /dev/serial/by-id/<your-board> btt-octopus-f446-v1');
    expect(doc.powerUp.join('\n')).toMatch(/renames the file to FIRMWARE\.CUR/);
    // The human plan is numbered and in the same order.
    const human = runCli(['doctor', '--board', 'btt-octopus-f446-v1', '--firmware', fw, '--card', img], { env: { FWCARD_BOARDS: NO_USER_BOARDS, ...NO_USB } });
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/What is fine:/);
    expect(human.stdout).toMatch(/^ {2}1\. Put the card in the board and power it on/m);
    expect(human.stdout).toMatch(/^ {2}2\. (Look for the board on USB|No board on USB|On USB now)/m);
    expect(human.stdout).toMatch(/^ {2}3\. If the board ignores the card: restore the stock bootloader/m);
    for (const line of human.stdout.split('\n')) if (!line.startsWith('     $ ')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('a "No bootloader" build: rebuild first with the board\'s offset, and the dfu-util restore at 0x08000000 then 0x08008000', () => {
    const fw = firmware('btt-octopus-f446-v1', 'nobl.bin', 0x08000000);
    const { status, doc, steps } = doctor(['--board', 'btt-octopus-f446-v1', '--firmware', fw]);
    expect(status).toBe(1);
    expect(doc.ok).toBe(false);
    expect(steps[0]!.id).toBe('rebuild-firmware');
    expect(steps[0]!.kind).toBe('fix');
    expect(steps[0]!.resolves.filter((id) => id === 'wrong-offset' || id === 'no-bootloader-build')).toHaveLength(1);
    const text = steps[0]!.details.join('\n');
    expect(text).toMatch(/"No bootloader" build/);
    expect(text).toMatch(/32KiB bootloader/);
    const restore = steps.at(-1)!;
    expect(restore.id).toBe('restore-bootloader');
    expect(restore.kind).toBe('if-needed');
    // Klipper goes back at the application address as the rebuilt file, never as this build.
    expect(restore.commands.slice(2)).toEqual(['dfu-util -l', 'dfu-util -a 0 -d 0483:df11 -s 0x08000000 -D btt-octopus-f446-v1-bootloader.bin', 'dfu-util -a 0 -d 0483:df11 -s 0x08008000:leave -D ~/klipper/out/klipper.bin']);
    expect(restore.details.join('\n')).toMatch(/The stock bootloader: .*OctoPus-F446-bootloader-32KB\.hex in github\.com\/bigtreetech\/BIGTREETECH-OCTOPUS-V1\.0/);
    expect(doc.recovery).toMatchObject({ tool: 'dfu-util', flashBase: 0x08000000, appStart: 0x08008000, bootloaderImage: { repository: 'bigtreetech/BIGTREETECH-OCTOPUS-V1.0', address: 0x08000000, format: 'hex' }, bootloaderSources: ['B-OCT-BL'] });
  });

  it('an exFAT 64 GB card for a Creality board: one re-format step naming the size limit; running its command makes the card pass', () => {
    const fw = firmware('creality-v4.2.2', 'cr.bin');
    const img = join(dir, 'exfat.img');
    makeCard(img, { sizeMiB: 64 * 1024, exfat: true });
    const { status, steps, doc } = doctor(['--board', 'creality-v4.2.2', '--firmware', fw, '--card', img]);
    expect(status).toBe(1);
    const card = steps.filter((s) => s.id === 'recreate-card');
    expect(card).toHaveLength(1);
    expect(card[0]!.resolves).toEqual(expect.arrayContaining(['filesystem-exfat', 'card-too-large']));
    expect(card[0]!.commands[0]).toBe(`fwcard prepare ${img} --board creality-v4.2.2 --firmware ${fw} --fs fat32 --cluster 4096 --partition-size 8G`);
    // The step's command is card-too-large's structured remedy (the longest re-format), not text read out of its hint.
    const tooLarge = doc.card.findings.find((f: { id: string }) => f.id === 'card-too-large');
    expect(tooLarge.remedy.argv).toEqual(['fwcard', 'prepare', img, '--board', 'creality-v4.2.2', '--firmware', fw, '--fs', 'fat32', '--cluster', '4096', '--partition-size', '8G']);
    expect(card[0]!.commands[0]).toBe(tooLarge.remedy.argv.join(' '));
    // Nothing else about the card: the format covers it.
    expect(steps.filter((s) => s.id.startsWith('card-') || s.id === 'write-firmware' || s.id === 'fix-card-names')).toEqual([]);
    expect(steps.find((s) => s.id === 'power-up')!.details.join('\n')).toMatch(/new name/);
    const run = runPlanCommand(card[0]!.commands[0]!, ['--yes', '--quiet']);
    expect(run.status, run.stderr).toBe(0);
    const after = doctor(['--board', 'creality-v4.2.2', '--firmware', fw, '--card', img]);
    expect(after.steps.filter((s) => s.kind === 'fix')).toEqual([]);
    expect(after.status).toBe(0);
  });

  it('a GPT card: re-create it with an MBR', () => {
    const img = join(dir, 'gpt.img');
    makeCard(img, { sizeMiB: 64, table: 'gpt', fat: 32 });
    const { status, steps } = doctor(['--board', 'btt-skr-mini-v3', '--card', img]);
    expect(status).toBe(1);
    const s = steps.find((x) => x.id === 'recreate-card')!;
    expect(s.resolves).toContain('gpt-partition-table');
    expect(s.commands[0]).toBe(`fwcard prepare ${img} --board btt-skr-mini-v3 --firmware ~/klipper/out/klipper.bin`);
    // Without --firmware the plan starts by building it.
    expect(steps[0]!.id).toBe('build-firmware');
    expect(steps[0]!.details.join('\n')).toMatch(/"8KiB bootloader" \(0x08002000\)/);
  });

  it('a wrongly named firmware file: the --fix step, and running it makes the plan clean', () => {
    const fw = firmware('btt-skr-mini-v3', 'e3.bin');
    const { img, offset } = prepared('btt-skr-mini-v3', fw, 'named.img');
    execFileSync('mren', ['-i', `${img}@@${offset}`, '::/firmware.bin', '::/firmware(1).bin'], { env: MTOOLS_ENV });
    const { status, steps } = doctor(['--board', 'btt-skr-mini-v3', '--firmware', fw, '--card', img]);
    expect(status).toBe(1);
    const s = steps.find((x) => x.id === 'fix-card-names')!;
    expect(s.kind).toBe('fix');
    expect(s.resolves).toContain('firmware-name-near-miss');
    expect(s.commands).toEqual([`fwcard check ${img} --board btt-skr-mini-v3 --fix`]);
    expect(runPlanCommand(s.commands[0]!).status).toBe(0);
    expect(doctor(['--board', 'btt-skr-mini-v3', '--firmware', fw, '--card', img]).status).toBe(0);
  });

  it('a card without the firmware: write it with --no-format, keeping the card', () => {
    const fw = firmware('btt-skr-mini-v3', 'e3b.bin');
    const { img, offset } = prepared('btt-skr-mini-v3', fw, 'empty.img');
    execFileSync('mdel', ['-i', `${img}@@${offset}`, '::/firmware.bin'], { env: MTOOLS_ENV });
    const { status, steps } = doctor(['--board', 'btt-skr-mini-v3', '--firmware', fw, '--card', img]);
    expect(status).toBe(1);
    const s = steps.find((x) => x.id === 'write-firmware')!;
    expect(s.resolves).toContain('firmware-missing');
    expect(s.commands[0]).toBe(`fwcard prepare ${img} --board btt-skr-mini-v3 --firmware ${fw} --no-format`);
    expect(runPlanCommand(s.commands[0]!, ['--yes', '--quiet']).status).toBe(0);
    expect(doctor(['--board', 'btt-skr-mini-v3', '--firmware', fw, '--card', img]).status).toBe(0);
  });

  it('a card holding another board\'s build: one --no-format step replaces it, its old image\'s problems listed there and not as a step of their own', () => {
    const octo = firmware('btt-octopus-f446-v1', 'octo2.bin');
    const { img } = prepared('btt-octopus-f446-v1', octo, 'other-board.img');
    const fw = firmware('btt-skr-mini-v3', 'e3c.bin');
    const { status, steps } = doctor(['--board', 'btt-skr-mini-v3', '--firmware', fw, '--card', img]);
    expect(status).toBe(1);
    expect(steps.map((s) => s.id)).toEqual(['write-firmware', 'power-up', 'usb-scan', 'restore-bootloader']);
    const w = steps[0]!;
    expect(w.resolves).toContain('firmware-differs');
    expect(w.resolves.filter((id) => id.startsWith('image-')).length).toBeGreaterThan(0);
    expect(w.details.join('\n')).toMatch(/stm32f446xx/);
    expect(w.details.every((d) => !/[?.]\.$/.test(d))).toBe(true);
    expect(runPlanCommand(w.commands[0]!, ['--yes', '--quiet']).status).toBe(0);
    expect(doctor(['--board', 'btt-skr-mini-v3', '--firmware', fw, '--card', img]).status).toBe(0);
  });

  it('an STM32F103 board has no USB DFU in ROM: st-flash at 0x08000000 and its 28 KiB application address', () => {
    const { steps, doc } = doctor(['--board', 'btt-skr-mini']);
    const restore = steps.find((s) => s.id === 'restore-bootloader')!;
    expect(doc.recovery.tool).toBe('st-flash');
    expect(restore.commands).toEqual(['st-flash write <stock-bootloader.bin> 0x08000000', 'st-flash --reset write ~/klipper/out/klipper.bin 0x08007000']);
    expect(restore.details.join('\n')).toMatch(/no USB DFU in ROM/);
    // The SPI bootloader: a reset is enough.
    expect(doc.powerUp.join('\n')).toMatch(/reads the card over SPI: a reset/);
  });

  it('an LPC176x board restores over the ROM ISP loader; the catalog\'s image location is used when a boards file gives it', () => {
    const boards = join(dir, 'boards.json');
    writeFileSync(boards, JSON.stringify({ boards: [{ name: 'btt-octopus-f446-v1', bootloaderImage: 'https://example.org/octopus/bootloader.bin' }] }));
    const oct = doctor(['--board', 'btt-octopus-f446-v1', '--boards-file', boards]);
    expect(oct.doc.recovery.bootloaderImage).toEqual({ url: 'https://example.org/octopus/bootloader.bin', repository: null, path: null, address: null, format: 'bin' });
    expect(oct.steps.at(-1)!.details.join('\n')).toContain('The stock bootloader: https://example.org/octopus/bootloader.bin');
    expect(oct.steps.at(-1)!.commands.slice(0, 3)).toEqual(['wget -O btt-octopus-f446-v1-bootloader.bin https://example.org/octopus/bootloader.bin', 'dfu-util -l', 'dfu-util -a 0 -d 0483:df11 -s 0x08000000 -D btt-octopus-f446-v1-bootloader.bin']);
    const lpc = doctor(['--board', 'btt-skr-v1.3']);
    expect(lpc.doc.recovery).toMatchObject({ tool: 'lpc21isp', flashBase: 0, appStart: 0x4000 });
    expect(lpc.steps.at(-1)!.commands[0]).toMatch(/^lpc21isp -bin <stock-bootloader\.bin> /);
  });

  it('an unknown board or a missing card cannot run: exit 2 with the error document', () => {
    const a = doctor(['--board', 'octopuss']);
    expect(a.status).toBe(2);
    expect(a.doc).toMatchObject({ ok: false, error: { code: 'unknown-board' } });
    const b = doctor(['--board', 'btt-octopus-f446-v1', '--card', join(dir, 'no-such.img')]);
    expect(b.status).toBe(2);
    expect(b.doc.error.code).toBe('not-found');
  });
});

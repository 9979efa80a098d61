import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { removeDir, runCli, tempDir } from '../helpers/judges.js';

// Issue 14, item 1: doctor must never hand back a command that uses a firmware file the same plan
// calls wrong. A "No bootloader" build (linked at the flash base) for a board whose SD bootloader
// starts the application higher up: no command may put it on a card or write it at the
// application address; the card and restore commands name the rebuilt file; the one command that
// writes the build itself writes it at the flash base and says it replaces the bootloader.
const dir = tempDir('fwcard-doctor-wrong-');
afterAll(() => removeDir(dir));
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');
// An empty USB tree, so that a board plugged into the developer's machine does not change the plan.
const NO_USB = { FWCARD_SYSFS_ROOT: join(dir, 'sys'), FWCARD_DEV_ROOT: join(dir, 'dev') };
const catalog = loadCatalog({ noUserConfig: true });

interface Step {
  id: string;
  kind: string;
  title: string;
  details: string[];
  commands: string[];
}

function doctor(args: string[]): { status: number | null; doc: any; steps: Step[] } {
  const r = runCli(['doctor', '--json', ...args], { env: { FWCARD_BOARDS: NO_USER_BOARDS, ...NO_USB } });
  const doc = JSON.parse(r.stdout);
  return { status: r.status, doc, steps: doc.steps ?? [] };
}

function build(board: string, name: string, flashStart: number): string {
  const b = catalog.get(board);
  const fw = makeSyntheticFirmware({ mcu: b.mcu, flashStart, size: 24_000, klipper: { version: 'v0.13.0-wrong' } });
  const path = join(dir, name);
  writeFileSync(path, fw.bytes);
  return path;
}

/** Every command of the plan that names `file` (as a whole shell word). */
const naming = (steps: Step[], file: string): { step: string; command: string }[] =>
  steps.flatMap((s) => s.commands.filter((c) => c.split(' ').includes(file)).map((command) => ({ step: s.id, command })));

const FAMILIES = [
  { board: 'btt-octopus-f446-v1', app: '0x08008000', tool: 'dfu-util', keep: (f: string) => `dfu-util -a 0 -d 0483:df11 -s 0x08000000:leave -D ${f}` },
  { board: 'btt-skr-mini', app: '0x08007000', tool: 'st-flash', keep: (f: string) => `st-flash --reset write ${f} 0x08000000` },
  { board: 'btt-skr-mini-v3', app: '0x08002000', tool: 'dfu-util', keep: (f: string) => `dfu-util -a 0 -d 0483:df11 -s 0x08000000:leave -D ${f}` },
  { board: 'btt-skr-3-h723', app: '0x08020000', tool: 'dfu-util', keep: (f: string) => `dfu-util -a 0 -d 0483:df11 -s 0x08000000:leave -D ${f}` },
] as const;

describe('doctor with a "No bootloader" build', () => {
  for (const fam of FAMILIES) {
    it(`${fam.board} (${fam.tool}): the build appears only in the ROM-loader route at 0x08000000; prepare and the restore name the rebuilt file`, () => {
      const fw = build(fam.board, `${fam.board}-nobl.bin`, 0x08000000);
      const { status, steps, doc } = doctor(['--board', fam.board, '--firmware', fw]);
      expect(status).toBe(1);
      expect(doc.recovery.tool).toBe(fam.tool);
      const ids = steps.map((s) => s.id);
      expect(ids).toEqual(['rebuild-firmware', 'keep-build-rom-loader', 'prepare-card', 'power-up', 'usb-scan', 'restore-bootloader']);
      // Route (a): rebuild with the board's offset, then the card, with the rebuilt file.
      const rebuild = steps[0]!;
      expect(rebuild.commands).toEqual(['cd ~/klipper', 'make menuconfig', 'make', `fwcard inspect ~/klipper/out/klipper.bin --board ${fam.board}`]);
      expect(rebuild.details.join('\n')).toContain(`(${fam.app})`);
      expect(steps[2]!.commands).toContain(`fwcard prepare /dev/sdX --board ${fam.board} --firmware ~/klipper/out/klipper.bin`);
      // Route (b): keep the build, at the flash base, saying what it costs.
      const keep = steps[1]!;
      expect(keep.title).toMatch(/replaces the stock bootloader/);
      expect(keep.commands).toContain(fam.keep(fw));
      expect(keep.details.join('\n')).toMatch(/card no longer updates the board/);
      // The whole plan: the wrong build only in route (b), never with the application address.
      expect(naming(steps, fw)).toEqual([{ step: 'keep-build-rom-loader', command: fam.keep(fw) }]);
      for (const s of steps) for (const c of s.commands) if (c.includes(fam.app)) expect(c.split(' '), c).not.toContain(fw);
      const restore = steps.at(-1)!.commands;
      expect(restore.at(-1)).toMatch(new RegExp(`(-s ${fam.app}:leave -D|--reset write) ~/klipper/out/klipper\\.bin( ${fam.app})?$`));
    });
  }

  it('with --rebuilt and a card: the card commands name the rebuilt file, never the wrong build', () => {
    const fw = build('btt-octopus-f446-v1', 'card-nobl.bin', 0x08000000);
    const img = join(dir, 'blank.img');
    writeFileSync(img, Buffer.alloc(8 * 1024 * 1024));
    const mine = join(dir, 'my build', 'klipper.bin');
    const { steps } = doctor(['--board', 'btt-octopus-f446-v1', '--firmware', fw, '--card', img, '--rebuilt', mine]);
    const card = steps.find((s) => s.id === 'recreate-card')!;
    expect(card.commands[0]).toBe(`fwcard prepare ${img} --board btt-octopus-f446-v1 --firmware '${mine}'`);
    expect(card.commands[1]).toBe(`fwcard check ${img} --board btt-octopus-f446-v1`);
    expect(steps[0]!.commands).toEqual(['make menuconfig', 'make', `fwcard inspect '${mine}' --board btt-octopus-f446-v1`]);
    expect(naming(steps, fw).map((n) => n.step)).toEqual(['keep-build-rom-loader']);
    expect(steps.at(-1)!.commands.at(-1)).toBe(`dfu-util -a 0 -d 0483:df11 -s 0x08008000:leave -D '${mine}'`);
  });

  it('a build for the wrong offset that is not "No bootloader" (64 KiB on a 32 KiB board): rebuild only, no ROM-loader route', () => {
    const fw = build('btt-octopus-f446-v1', 'off64.bin', 0x08010000);
    const { steps } = doctor(['--board', 'btt-octopus-f446-v1', '--firmware', fw]);
    expect(steps[0]!.id).toBe('rebuild-firmware');
    expect(steps.map((s) => s.id)).not.toContain('keep-build-rom-loader');
    expect(naming(steps, fw)).toEqual([]);
  });

  it('a good build is used as it is', () => {
    const fw = build('btt-octopus-f446-v1', 'good.bin', 0x08008000);
    const { status, steps } = doctor(['--board', 'btt-octopus-f446-v1', '--firmware', fw]);
    expect(status).toBe(0);
    expect(steps.find((s) => s.id === 'prepare-card')!.commands[1]).toBe(`fwcard prepare /dev/sdX --board btt-octopus-f446-v1 --firmware ${fw}`);
    expect(steps.at(-1)!.commands.at(-1)).toBe(`dfu-util -a 0 -d 0483:df11 -s 0x08008000:leave -D ${fw}`);
  });
});

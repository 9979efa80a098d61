import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { listDrives, type Drive } from '../../src/disk/drives.js';
import { completePrepareArgs } from '../../src/cli/interactive/prepare-args.js';
import { build } from '../flash-sdcard/helpers.js';
import { CLI, fingerprint, removeDir, runCli, tempDir, unwrapped } from '../helpers/judges.js';
import { Tmux } from './tmux.js';

// The pickers in a real terminal (tmux), and the rule that nothing asks without one.
const dir = tempDir('fwcard-interactive-');
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');
const fw = build(dir, 'btt-octopus-f446-v1', 'v0.13.0-pick');
let term: Tmux | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});
afterAll(() => removeDir(dir));

/** A shell in tmux running `cmd`, then printing its exit code and staying on screen. */
function terminal(cmd: string): Tmux {
  term = new Tmux(`sh -c '${cmd.replace(/'/g, `'\\''`)}; echo "EXIT=$?"; sleep 60'`, { cwd: dir, env: { FWCARD_BOARDS: NO_USER_BOARDS, NO_COLOR: '1' }, width: 180 });
  return term;
}

const drive = (over: Partial<Drive>): Drive => ({
  device: '/dev/sdx',
  description: 'Generic STORAGE DEVICE',
  sizeBytes: 31_914_983_424,
  bus: 'usb',
  removable: true,
  isCard: false,
  isUsb: true,
  isSystem: false,
  isVirtual: false,
  readOnly: false,
  mountpoints: [],
  byId: [],
  loopBackingFile: null,
  hiddenBecause: '',
  source: 'sysfs',
  ...over,
});

describe('no terminal: missing arguments are errors naming what to pass', () => {
  it('no target, no --board, both: exit 2 with the argument or flag in the message and hint', () => {
    const a = runCli(['prepare', '--board', 'btt-octopus-f446-v1', '--firmware', fw.bin, '--json']);
    expect(a.status).toBe(2);
    expect(JSON.parse(a.stdout).error).toMatchObject({ code: 'missing-target', details: { missing: ['target'] } });
    expect(JSON.parse(a.stdout).error.hint).toMatch(/fwcard drives/);
    const b = runCli(['prepare', join(dir, 'b.img'), '--size', '64M', '--firmware', fw.bin]);
    expect(b.status).toBe(2);
    expect(unwrapped(b.stderr)).toMatch(/prepare needs --board <name>; there is no terminal to ask on/);
    expect(unwrapped(b.stderr)).toMatch(/hint: Pass --board <name>/);
    expect(existsSync(join(dir, 'b.img'))).toBe(false);
    const c = runCli(['prepare', '--firmware', fw.bin, '--json']);
    expect(JSON.parse(c.stdout).error.details.missing).toEqual(['target', '--board']);
  });

  it('the decision is the terminal\'s: with both given nothing is asked, without a TTY the pickers are never called', async () => {
    const never = async (): Promise<never> => {
      throw new Error('asked');
    };
    const deps = { interactive: false, drives: async () => [drive({})], pickDrive: never, pickBoard: never };
    await expect(completePrepareArgs({ targets: ['x.img'], board: 'b' }, deps)).resolves.toEqual({ targets: ['x.img'], board: 'b' });
    await expect(completePrepareArgs({ targets: [] }, deps)).rejects.toMatchObject({ code: 'missing-target' });
    await expect(completePrepareArgs({ targets: [], board: 'b' }, { ...deps, interactive: true, pickDrive: async (d) => d[0]!.device })).resolves.toEqual({ targets: ['/dev/sdx'], board: 'b' });
  });
});

describe('in a terminal', () => {
  it('the board picker searches as you type; the confirmation names what is erased; the card is made for the picked board', async () => {
    const img = join(dir, 'picked.img');
    const t = terminal(`node ${CLI} prepare ${img} --size 64M --firmware ${fw.bin}`);
    await t.waitFor(/Which board\?/);
    t.type('octopus f446');
    await t.waitFor(/❯ btt-octopus-f446-v1 +BIGTREETECH: Octopus V1\.0/);
    expect(t.screen()).not.toMatch(/btt-skr-mini/);
    // The description line of the highlighted board.
    expect(t.screen()).toMatch(/stm32f446xx, bootloader reads firmware\.bin/);
    t.keys('Enter');
    const confirm = await t.waitFor(/Type "yes" to continue:/);
    expect(confirm).toMatch(/board: btt-octopus-f446-v1 \(BIGTREETECH\)/);
    expect(confirm).toMatch(/This will ERASE everything on .*picked\.img/);
    t.type('yes');
    t.keys('Enter');
    const done = await t.waitFor(/EXIT=\d+/, 30_000);
    expect(done).toMatch(/is ready for btt-octopus-f446-v1/);
    expect(done).toMatch(/EXIT=0/);
    const check = runCli(['check', img, '--board', 'btt-octopus-f446-v1', '--firmware', fw.bin, '--json']);
    expect(JSON.parse(check.stdout).ok).toBe(true);
  });

  it('Ctrl-C in the board picker cancels without touching anything (exit 2)', async () => {
    const img = join(dir, 'cancel.img');
    writeFileSync(img, Buffer.alloc(1 << 20, 0xa5));
    const before = fingerprint(img);
    const t = terminal(`node ${CLI} prepare ${img} --firmware ${fw.bin}`);
    await t.waitFor(/Which board\?/);
    t.type('creality');
    await t.waitFor(/❯ creality-/);
    t.keys('C-c');
    const s = await t.waitFor(/EXIT=\d+/);
    expect(s).toMatch(/cancelled: nothing was written/);
    expect(s).toMatch(/EXIT=2/);
    expect(fingerprint(img)).toBe(before);
  });

  // Issue 14: these keys used to end in "internal error: AbortError", a stack trace and exit 3.
  for (const [key, name] of [['C-c', 'Ctrl-C'], ['C-d', 'Ctrl-D']] as const) {
    it(`${name} at "Type yes to continue" cancels cleanly: the message, exit 2, no stack trace, the image byte-identical`, async () => {
      const img = join(dir, `confirm-${key}.img`);
      writeFileSync(img, Buffer.alloc(16 << 20, 0x5a));
      const before = fingerprint(img);
      const t = terminal(`node ${CLI} prepare ${img} --board btt-octopus-f446-v1 --firmware ${fw.bin}`);
      await t.waitFor(/Type "yes" to continue:/);
      t.type('ye');
      t.keys(key === 'C-d' ? 'C-u' : 'C-c');
      if (key === 'C-d') t.keys('C-d');
      const s = await t.waitFor(/EXIT=\d+/);
      expect(s).toMatch(/^fwcard: error: cancelled: nothing was written$/m);
      expect(s).toMatch(/hint: Run the command again when you are ready/);
      expect(s).not.toMatch(/internal error|AbortError|this is a bug|    at /);
      expect(s).toMatch(/EXIT=2/);
      expect(fingerprint(img)).toBe(before);
    });
  }

  it('--json: Ctrl-C at the confirmation prints the error document (code cancelled) and exits 2', async () => {
    const img = join(dir, 'confirm-json.img');
    writeFileSync(img, Buffer.alloc(16 << 20, 0x5a));
    const before = fingerprint(img);
    const out = join(dir, 'confirm-json.out');
    const t = terminal(`node ${CLI} prepare ${img} --json --board btt-octopus-f446-v1 --firmware ${fw.bin} > ${out}`);
    await t.waitFor(/Type "yes" to continue:/);
    t.keys('C-c');
    expect(await t.waitFor(/EXIT=\d+/)).toMatch(/EXIT=2/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc).toMatchObject({ ok: false, error: { code: 'cancelled', message: 'cancelled: nothing was written' } });
    expect(fingerprint(img)).toBe(before);
  });

  it('the drive picker lists model, size, kind, mount points and the by-id name, and returns the one chosen', async () => {
    const drives = [
      drive({ device: '/dev/sdb', description: 'Generic STORAGE DEVICE', sizeBytes: 31_914_983_424, isCard: true, isUsb: true, mountpoints: ['/media/pi/BOOT'], byId: ['usb-Generic_STORAGE_DEVICE_000000000819-0:0'] }),
      drive({ device: '/dev/sdc', description: 'SanDisk Cruzer Blade', sizeBytes: 8_004_304_896, byId: ['usb-SanDisk_Cruzer_Blade_4C530001-0:0'] }),
    ];
    const t = terminal(`node test/cli/pick-drive-harness.mjs '${JSON.stringify(drives)}'`.replace(/^/, `cd ${process.cwd()} && `));
    const s = await t.waitFor(/Which card\?/);
    expect(s).toMatch(/❯ \/dev\/sdb +29\.7 GiB +SD card +Generic STORAGE DEVICE +mounted: \/media\/pi\/BOOT/);
    expect(s).toMatch(/\/dev\/sdc +7\.45 GiB +USB reader +SanDisk Cruzer Blade/);
    expect(s).toMatch(/\/dev\/disk\/by-id\/usb-Generic_STORAGE_DEVICE_000000000819-0:0/);
    t.keys('Down');
    await t.waitFor(/\/dev\/disk\/by-id\/usb-SanDisk_Cruzer_Blade/);
    t.keys('Enter');
    expect(await t.waitFor(/EXIT=\d+/)).toMatch(/PICKED \/dev\/sdc\n/);
  });

  it('no target in a terminal: the drive picker over this machine\'s removable drives (or why there is none)', async () => {
    const offered = await listDrives();
    const t = terminal(`node ${CLI} prepare --board btt-octopus-f446-v1 --firmware ${fw.bin}`);
    if (offered.length === 0) {
      const s = await t.waitFor(/EXIT=\d+/);
      expect(s).toMatch(/no removable drive found to prepare/);
      expect(s).toMatch(/fwcard drives --all/);
      expect(s).toMatch(/EXIT=2/);
    } else {
      await t.waitFor(new RegExp(`Which card\\?[\\s\\S]*${offered[0]!.device.replace(/\//g, '\\/')}`));
      t.keys('C-c');
      expect(await t.waitFor(/EXIT=\d+/)).toMatch(/cancelled: nothing was written/);
    }
  });
});

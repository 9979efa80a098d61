import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Tmux } from '../cli/tmux.js';
import { CLI, attachLoop, detachLoop, fingerprint, removeDir, runCli, tempDir } from '../helpers/judges.js';
import { cb1Card, wholeCard } from '../partition/cards.js';

// Issue 14: the erase prompt, `prepare --dry-run` (text and --json) and `check` say what is on
// the card now, on real cards made by mkfs.fat/mtools, mkfs.ext4 and mkswap.
const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const BOARD = ['--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE];
const dir = tempDir('fwcard-content-cli-');
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');
const env = { FWCARD_BOARDS: NO_USER_BOARDS, NO_COLOR: '1' };
const cb1 = cb1Card(join(dir, 'cb1.img'));
let term: Tmux | null = null;
afterEach(() => {
  term?.kill();
  term = null;
});
afterAll(() => removeDir(dir));

/** Output laid out for the terminal, its continuation lines joined back. */
const unwrap = (s: string): string => s.replace(/\n +/g, ' ');
const ROOT_LINE = /#2: start 270336, 512 MiB, Linux: ext4 "opi_root", [\d.]+ MiB used of 512 MiB/;
const SWAP_LINE = /#3: start 1318912, 380 MiB, Linux swap: swap "cb1swap" \(v1, 4 KiB pages\), 380 MiB/;
const BOOT_LINE = /#1: start 8192, 128 MiB, FAT32 \(LBA\): FAT32 "BOOT", .*4 entries in the root: dtb\/, armbianEnv\.txt, boot\.scr, a long file name\.txt/;

describe('what is on the card, where prepare and check show it (issue 14)', () => {
  it('prepare --dry-run lists every partition of a CB1 card with what it holds, and writes nothing', () => {
    const before = fingerprint(cb1);
    const r = runCli(['prepare', cb1, ...BOARD, '--dry-run'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/now on it \(a real run destroys this\):\n\s+MBR partition table with 3 partitions/);
    expect(r.stdout).toMatch(BOOT_LINE);
    expect(r.stdout).toMatch(ROOT_LINE);
    expect(r.stdout).toMatch(SWAP_LINE);
    expect(r.stdout).not.toMatch(/empty/);
    expect(fingerprint(cb1)).toBe(before);
  });

  it('prepare --dry-run --json: plan.target.current carries the content', () => {
    const r = runCli(['prepare', cb1, ...BOARD, '--dry-run', '--json'], { env });
    expect(r.status, r.stderr).toBe(0);
    const cur = JSON.parse(r.stdout).plan.target.current;
    expect(cur.table).toBe('mbr');
    expect(cur.partitions.map((p: any) => [p.content.fs, p.content.label])).toEqual([['FAT32', 'BOOT'], ['ext4', 'opi_root'], ['swap', 'cb1swap']]);
  });

  it('an ext4 image given to prepare --dry-run: the whole card is ext4', () => {
    const img = wholeCard(dir, 'ext4', 'ROOTFS');
    const r = runCli(['prepare', img, ...BOARD, '--dry-run'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/now on it \(a real run destroys this\):\n\s+no partition table; the whole card: ext4 "ROOTFS", [\d.]+ MiB used of 64.0 MiB/);
  });

  it('the erase prompt in a terminal names the ext4 and swap partitions; "no" leaves the card untouched', async () => {
    const before = fingerprint(cb1);
    term = new Tmux(`sh -c 'node ${CLI} prepare ${cb1} ${BOARD.join(' ')}; echo "EXIT=$?"; sleep 60'`, { cwd: dir, env, width: 200, height: 50 });
    const screen = await term.waitFor(/Type "yes" to continue:/, 20_000);
    expect(screen).toMatch(/now on it \(will be destroyed\):/);
    expect(screen).toMatch(ROOT_LINE);
    expect(screen).toMatch(SWAP_LINE);
    expect(screen).toMatch(/This will ERASE everything on/);
    term.type('no');
    term.keys('Enter');
    const done = await term.waitFor(/EXIT=\d+/, 20_000);
    expect(done).toMatch(/nothing was written/);
    expect(done).not.toMatch(/EXIT=0/);
    expect(fingerprint(cb1)).toBe(before);
  });

  it('check shows the same content where it reports the partition table', () => {
    const r = runCli(['check', cb1], { env });
    // check wraps its lines to the terminal's width: read them as one text.
    const text = unwrap(r.stdout);
    expect(text).toMatch(/MBR, 3 partition\(s\)/);
    expect(text).toMatch(BOOT_LINE);
    expect(text).toMatch(ROOT_LINE);
    expect(text).toMatch(SWAP_LINE);
    const json = JSON.parse(runCli(['check', cb1, '--json'], { env }).stdout);
    expect(json.card.partitions[1].content).toMatchObject({ fs: 'ext4', label: 'opi_root' });
    expect(json.card.partitions[1].fs).toBe('ext4');
  });

  it('check on an ext4 card without a partition table says ext4, not "blank"', () => {
    const img = wholeCard(dir, 'ext4', 'ROOTFS');
    const r = runCli(['check', img], { env });
    expect(r.status).toBe(1);
    expect(unwrap(r.stdout)).toMatch(/no partition table; the whole card: ext4 "ROOTFS"/);
    expect(unwrap(r.stdout)).toMatch(/the card \(no partition table\) holds ext4, which SD bootloaders do not read/);
    expect(r.stdout).not.toMatch(/blank/);
  });

  it('on a loop device: prepare --dry-run reads the partitions of /dev/loopN', () => {
    const before = fingerprint(cb1);
    // Writable, as a card in a reader is (prepare refuses a read-only device even for a dry run).
    const loop = attachLoop(cb1, 0, undefined, false);
    try {
      const r = runCli(['prepare', loop, ...BOARD, '--dry-run'], { env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(ROOT_LINE);
      expect(r.stdout).toMatch(SWAP_LINE);
    } finally {
      detachLoop(loop);
    }
    expect(fingerprint(cb1)).toBe(before);
  });
});

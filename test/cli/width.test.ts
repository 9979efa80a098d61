import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { commandLine, remedyCommands, type Remedy } from '../../src/errors.js';
import { visibleLength } from '../../src/cli/wrap.js';
import { CLI, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';
import { FIRMWARE, GiB, MiB, blank, fatCard, localFile, mcopy, mkfsFat, mmd, placeFs, run, sfdisk } from '../check/cards.js';

// Issue 16: at the terminal's width, `check`, `doctor`, `inspect` and `boards` print no line
// longer than the width (but for one unbreakable thing: a URL, a path, a command), never split
// a command across lines and never break a word. The built CLI is run as a user runs it, with
// COLUMNS set, over real card images (mkfs.fat, mkfs.exfat, sfdisk, mtools), the fixture
// firmware files and every board of the catalog; the --json run of the same case says which
// commands (remedies, plan steps) the human text must carry whole.

const WIDTHS = [60, 80, 120] as const;
const FW_DIR = join(process.cwd(), 'fixtures', 'firmware');
const NOBL = join(FW_DIR, 'klipper-stm32f446-nobootloader.bin');

let dir: string;
const empty = (): string => join(dir, 'none.json');
/** No user boards file, an empty USB tree: the same output on every machine. */
const env = (width: number): NodeJS.ProcessEnv => ({ ...process.env, COLUMNS: String(width), FWCARD_BOARDS: empty(), FWCARD_SYSFS_ROOT: join(dir, 'sys'), FWCARD_DEV_ROOT: join(dir, 'dev'), NO_COLOR: '1' });

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function fwcard(args: string[], width: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: env(width), encoding: 'utf8', maxBuffer: 16 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** Run many CLI calls, a few at a time (the machine is shared). */
async function all<T>(jobs: (() => Promise<T>)[], at = 4): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: at }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * The layout rules. Every line fits the width, or is one unbreakable thing (after its indent
 * and an optional `$ `): a single word, a single backticked span, or one of `commands`. Each of
 * `commands` appears whole on one line, and each of `texts` (messages in the user's words)
 * reads whole once the lines are joined: no word was broken.
 */
function expectLaidOut(what: string, output: string, width: number, commands: string[], texts: string[] = []): void {
  const lines = output.replace(/\n$/, '').split('\n');
  for (const line of lines) {
    if (visibleLength(line) <= width) continue;
    const body = line.trim().replace(/^\$ /, '');
    const unbreakable = !/\s/.test(body) || commands.includes(body) || /^[^\s`]*`[^`]+`[^\s`]*$/.test(body);
    expect(unbreakable, `${what} at ${width}: a line of ${visibleLength(line)} columns:\n${line}`).toBe(true);
  }
  for (const c of commands) expect(lines.some((l) => l.includes(c)), `${what} at ${width}: command split or missing: ${c}\n${output}`).toBe(true);
  const flat = norm(output);
  for (const t of texts) expect(flat.includes(norm(t)), `${what} at ${width}: text broken or missing: ${t}\n${output}`).toBe(true);
}

interface Finding {
  message: string;
  hint: string;
  remedy?: Remedy;
}
const commandsOf = (findings: Finding[]): string[] => findings.flatMap((f) => remedyCommands(f.remedy).map(commandLine));

const cards: Record<string, string> = {};

beforeAll(() => {
  dir = tempDir('fwcard-width-');
  localFile(dir, 'none.json', '{ "boards": [] }');
  // A good card: MBR, FAT32, the firmware under the name the Octopus wants.
  cards.good = join(dir, 'good.img');
  mcopy(cards.good, fatCard(cards.good, 4 * GiB, ['-F', '32']), FIRMWARE, 'firmware.bin');
  // FAT32 with what a Mac and a file manager leave: AppleDouble files, metadata folders, a near miss.
  cards.junk = join(dir, 'junk.img');
  const off = fatCard(cards.junk, 256 * MiB, ['-F', '32', '-s', '1'], 'c', 2048);
  mcopy(cards.junk, off, FIRMWARE, 'firmware (1).bin');
  mcopy(cards.junk, off, FIRMWARE, '._firmware (1).bin');
  mcopy(cards.junk, off, localFile(dir, 'ds', 'x'), '.DS_Store');
  mmd(cards.junk, off, '.Spotlight-V100');
  mmd(cards.junk, off, '.fseventsd');
  // exFAT, as SDXC cards ship.
  cards.exfat = join(dir, 'exfat-card-as-it-came-out-of-the-packet.img');
  blank(cards.exfat, 64 * GiB);
  sfdisk(cards.exfat, 'label: dos\nstart=32768, type=7\n');
  placeFs(cards.exfat, 32768, 64 * MiB, (p) => run('mkfs.exfat', [p]));
  // GPT with a FAT32 partition.
  cards.gpt = join(dir, 'gpt.img');
  blank(cards.gpt, 512 * MiB);
  sfdisk(cards.gpt, 'label: gpt\nstart=2048, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n');
  mkfsFat(cards.gpt, ['-F', '32', '-s', '1'], 2048, 512 * 2048 - 2048 - 34);
  mcopy(cards.gpt, 2048, FIRMWARE, 'FIRMWARE.BIN');
}, 120_000);
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});

const CHECK_BOARDS = [null, 'btt-octopus-f446-v1', 'btt-skr-mini-e3-v3.0.1', 'btt-skr-mini-v3'] as const;

describe('check, laid out for the width', () => {
  it('every card, with and without a board, at 60, 80 and 120 columns; the exFAT card judged', async () => {
    const cases = Object.keys(cards).flatMap((card) => CHECK_BOARDS.map((board) => [cards[card]!, ...(board ? ['--board', board] : [])]));
    const docs = await all(cases.map((args) => () => fwcard(['check', ...args, '--json'], 80)));
    const human = await all(cases.flatMap((args) => WIDTHS.map((w) => () => fwcard(['check', ...args], w).then((r) => ({ args, w, r })))));
    let remedies = 0;
    for (const { args, w, r } of human) {
      expect(r.stderr, args.join(' ')).toBe('');
      const doc = JSON.parse(docs[cases.indexOf(args)]!.stdout) as { findings: Finding[] };
      const cmds = commandsOf(doc.findings);
      remedies += cmds.length;
      expectLaidOut(`check ${args.join(' ')}`, r.stdout, w, cmds, doc.findings.map((f) => f.message));
    }
    expect(remedies).toBeGreaterThan(20);
    const exfat = human.find((h) => h.args[0] === cards.exfat && h.args.includes('btt-skr-mini-e3-v3.0.1') && h.w === 80)!.r.stdout;
    expect(exfat).toMatch(/^ {2}error {4}filesystem-exfat$/m);
    expect(exfat).toMatch(/^ {13}\$ fwcard prepare \S+exfat-card-as-it-came-out-of-the-packet\.img --board btt-skr-mini-e3-v3\.0\.1 --firmware <firmware\.bin>/m);
  }, 600_000);

  it('--fix in the order it happened: before, what was fixed, after', async () => {
    // A copy: the other tests keep the junk.
    const junk = join(dir, 'junk-to-fix.img');
    run('cp', ['--sparse=always', cards.junk!, junk]);
    const before = JSON.parse((await fwcard(['check', junk, '--board', 'btt-octopus-f446-v1', '--json'], 80)).stdout) as { findings: Finding[] };
    const r = await fwcard(['check', junk, '--board', 'btt-octopus-f446-v1', '--fix'], 80);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const at = (re: RegExp): number => r.stdout.split('\n').findIndex((l) => re.test(l));
    const order = [/^before --fix:$/, /^before: ✘ will not flash/, /^ {2}fixed: /, /^after --fix:$/, /^card: /, /^after: ✔ ready to flash/].map(at);
    expect(order.every((i) => i >= 0), r.stdout).toBe(true);
    expect(order, r.stdout).toEqual([...order].sort((a, b) => a - b));
    expectLaidOut('check --fix', r.stdout, 80, commandsOf(before.findings), before.findings.map((f) => f.message));
  }, 120_000);
});

describe('doctor, laid out for the width', () => {
  it('its plan for good and broken cards and builds: each command whole on its own `$` line', async () => {
    const cases: string[][] = [];
    for (const board of ['btt-octopus-f446-v1', 'btt-skr-mini-e3-v3.0.1']) {
      cases.push(['--board', board]);
      for (const card of Object.values(cards)) cases.push(['--board', board, '--card', card, '--firmware', FIRMWARE]);
      cases.push(['--board', board, '--firmware', NOBL, '--card', cards.junk!]);
    }
    const docs = await all(cases.map((args) => () => fwcard(['doctor', ...args, '--json'], 80)));
    const human = await all(cases.flatMap((args) => WIDTHS.map((w) => () => fwcard(['doctor', ...args], w).then((r) => ({ args, w, r })))));
    for (const { args, w, r } of human) {
      const doc = JSON.parse(docs[cases.indexOf(args)]!.stdout) as { steps: { title: string; details: string[]; commands: string[] }[]; fine: string[] };
      expect(doc.steps.length).toBeGreaterThan(0);
      const cmds = doc.steps.flatMap((s) => s.commands);
      expectLaidOut(`doctor ${args.join(' ')}`, r.stdout, w, cmds, [...doc.fine, ...doc.steps.flatMap((s) => [s.title, ...s.details])]);
      // Each command of the plan is a line of its own, as the user pastes it.
      const lines = r.stdout.split('\n').map((l) => l.trim());
      for (const c of cmds) expect(lines, c).toContain(`$ ${c}`);
    }
  }, 600_000);
});

describe('inspect, laid out for the width', () => {
  it('each fixture firmware, alone and against boards', async () => {
    const files = readdirSync(FW_DIR).map((f) => join(FW_DIR, f));
    const boards = ['btt-octopus-f446-v1', 'btt-skr-mini-e3-v3.0.1', 'creality-v4.2.2'];
    const cases = files.flatMap((f, i) => [[f], [f, '--board', boards[i % boards.length]!]]);
    const docs = await all(cases.map((args) => () => fwcard(['inspect', ...args, '--json'], 80)));
    const human = await all(cases.flatMap((args) => WIDTHS.map((w) => () => fwcard(['inspect', ...args], w).then((r) => ({ args, w, r })))));
    for (const { args, w, r } of human) {
      const doc = JSON.parse(docs[cases.indexOf(args)]!.stdout) as { findings: Finding[] };
      const shown = doc.findings.filter((f) => !['linked-for', 'klipper', 'marlin'].includes((f as { id?: string }).id ?? ''));
      expectLaidOut(`inspect ${args.join(' ')}`, r.stdout + r.stderr, w, commandsOf(shown), shown.map((f) => f.message));
    }
  }, 600_000);

  it('an error and its hint (a missing file) fit too', async () => {
    for (const w of WIDTHS) {
      const r = await fwcard(['inspect', join(dir, 'there-is-no-such-firmware-file-in-this-folder-at-all.bin')], w);
      expect(r.status).toBe(2);
      expectLaidOut('inspect (missing)', r.stderr, w, []);
      expect(r.stderr).toMatch(/^fwcard: error:/);
    }
  }, 120_000);
});

describe('boards, laid out for the width', () => {
  it('the list at every width keeps board names whole', async () => {
    const names = loadCatalog({ noUserConfig: true }).search('').map((b) => b.name);
    for (const w of [40, ...WIDTHS]) {
      const r = await fwcard(['boards'], w);
      expectLaidOut('boards', r.stdout, w, []);
      const firsts = r.stdout.split('\n').map((l) => l.split(/\s+/)[0]);
      for (const n of names) expect(firsts, `${n} at ${w}`).toContain(n);
    }
    const wide = await fwcard(['boards'], 200);
    expect(wide.stdout.split('\n')[0]).toMatch(/^BOARD +VENDOR +MCU +FILE +BUS +VERIFY$/);
  }, 120_000);

  it('every board of the catalog, one by one', async () => {
    const names = loadCatalog({ noUserConfig: true }).search('').map((b) => b.name);
    expect(names.length).toBeGreaterThan(40);
    // Every board at 60 and 80 columns; at 120 (where less can go wrong) every third.
    const runs = await all(names.flatMap((n, i) => WIDTHS.filter((w) => w < 120 || i % 3 === 0).map((w) => () => fwcard(['boards', n], w).then((r) => ({ n, w, r })))));
    for (const { n, w, r } of runs) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^${n.replace(/[.]/g, '\\.')} — `));
      expectLaidOut(`boards ${n}`, r.stdout, w, []);
    }
  }, 900_000);
});

describe('mcu-info, laid out for the width', () => {
  it("a simulated Octopus's constants as NAME=value items, wrapped, none split", async () => {
    const tty = join(dir, 'octopus-tty');
    await sims.start(['--board', 'btt-octopus-f446-v1', '--port-link', tty]);
    const doc = JSON.parse((await fwcard(['mcu-info', tty, '--json'], 80)).stdout) as { constants: Record<string, unknown> };
    const items = Object.entries(doc.constants)
      .filter(([k]) => k !== 'MCU' && k !== 'CLOCK_FREQ')
      .map(([k, v]) => `${k}=${String(v)}`);
    expect(items.length).toBeGreaterThan(10);
    for (const w of WIDTHS) {
      const r = await fwcard(['mcu-info', tty], w);
      expect(r.status, r.stderr).toBe(0);
      expectLaidOut('mcu-info', r.stdout, w, []);
      // Every constant is one word of the output, whole.
      const said = new Set(r.stdout.split(/\s+/));
      for (const i of items) expect(said.has(i), `${i} at ${w}:\n${r.stdout}`).toBe(true);
      expect(r.stdout.split('\n').length).toBeGreaterThan(w === 120 ? 8 : 10);
    }
  }, 120_000);
});

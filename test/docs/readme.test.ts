import { describe, expect, it, afterAll } from 'vitest';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildProgram } from '../../src/cli/main.js';
import { CLI, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';

// The README's commands are run here, so the docs cannot drift from the tool. The README is
// what a new user reads (short: quick start, installing, a walkthrough, troubleshooting); the
// reference material lives in docs/ and is held to the same rules.
const root = process.cwd();
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const README = read('README.md');
const REFERENCE = read('docs/reference.md');
const DEVELOPMENT = read('docs/development.md');
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});

function shellBlocks(doc: string): string[] {
  return [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Every fwcard command line in a document: in ```sh blocks and, with inline, in `code spans`. */
function fwcardLines(doc: string, inline: boolean): string[] {
  const lines = shellBlocks(doc)
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /^(sudo )?(fwcard|node bin\/fwcard\.js) /.test(l) || /&& (fwcard|node bin\/fwcard\.js) /.test(l));
  if (inline) {
    const prose = doc.replace(/```[\s\S]*?```/g, '');
    for (const m of prose.matchAll(/`(?:sudo )?fwcard ([a-z][^`]*)`/g)) lines.push(`fwcard ${m[1]!.replace(/\s+/g, ' ')}`);
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchors(doc: string): Set<string> {
  return new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')));
}

describe('README', () => {
  it('is short enough to read top to bottom (at most 300 lines) and sends reference material to docs/', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(300);
    for (const doc of ['docs/reference.md', 'docs/json.md', 'docs/exit-codes.md', 'docs/reliability.md', 'docs/benchmarks.md', 'docs/development.md']) {
      expect(README, `README links ${doc}`).toContain(`](${doc})`);
    }
    // The fault-campaign tables and the benchmark figures live in docs/, not here.
    expect(README).not.toMatch(/silentCorruption/);
    expect(read('docs/reliability.md')).toMatch(/silentCorruption \| invariantViolations/);
  });

  it('quick start 1 leaves fwcard on the PATH and prepares the bundled sample into card.img', () => {
    const quick = shellBlocks(README).find((b) => b.includes('npm ci && npm run build && npm link && fwcard prepare'));
    expect(quick, 'the quick-start command is in the README').toBeTruthy();
    // `npm link` puts the package's bin on the PATH under its name: the name typed after it.
    const pkg = JSON.parse(read('package.json'));
    const bin = join(root, pkg.bin.fwcard);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    expect(statSync(bin).mode & 0o111, 'bin/fwcard.js is executable').not.toBe(0);
    // `npm ci && npm run build` already ran for this test run; run the main job as written.
    const job = quick!.trim().split('&&').map((s) => s.trim()).filter((s) => s.startsWith('fwcard '))[0]!;
    const args = job.split(/\s+/).slice(1);
    expect(args).toContain('card.img');
    const img = join(root, 'card.img');
    rmSync(img, { force: true });
    try {
      const r = spawnSync(process.execPath, [CLI, ...args, '--json'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.verified).toBe(true);
      expect(doc.board).toBe('btt-octopus-f446-v1');
    } finally {
      rmSync(img, { force: true });
    }
  });

  it('quick start 2 (and the copy in docs/development.md) installs what .ci/run installs and runs the test command CI runs', () => {
    const ci = read('.ci/run');
    const pkgs = (s: string) => new Set([...s.matchAll(/install -y(?: -qq)? ([a-z0-9 .+-]+?)(?:\s*&&|\s*>|\n)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)));
    const blocks = [README, DEVELOPMENT].flatMap((d) => shellBlocks(d).filter((b) => b.includes('npm test')));
    expect(blocks.length).toBe(2);
    for (const quick of blocks) {
      expect([...pkgs(quick)].sort()).toEqual([...pkgs(ci)].sort());
      expect(quick).toMatch(/npm ci && npm test/);
    }
    expect(ci).toMatch(/\nnpm test\n/);
  });

  it('every fwcard command and option the README and the docs show exists', async () => {
    const program = await buildProgram();
    const lines = [...fwcardLines(README, true), ...fwcardLines(REFERENCE, false), ...fwcardLines(DEVELOPMENT, false)];
    expect(fwcardLines(README, true).length).toBeGreaterThan(10);
    expect(lines.length).toBeGreaterThan(30);
    for (const line of lines) {
      const words = line.replace(/^.*?(fwcard|node bin\/fwcard\.js) /, '').split(/\s+/);
      const cmd = program.commands.find((c) => c.name() === words[0]);
      expect(cmd, `docs: ${line}`).toBeTruthy();
      const flags = new Set(cmd!.options.flatMap((o) => [o.short, o.long].filter(Boolean) as string[]));
      flags.add('-h');
      flags.add('--help');
      for (const w of words.slice(1)) if (/^--?[a-z]/i.test(w)) expect(flags.has(w.split('=')[0]!), `docs: ${line}: ${w}`).toBe(true);
    }
  });

  it('the commands in brief name every command, and docs/reference.md documents every option of every command', async () => {
    const program = await buildProgram();
    const sections = REFERENCE.split(/^(?=## )/m);
    for (const c of program.commands) {
      if (c.name() === 'help') continue;
      expect(README, `README's commands in brief: ${c.name()}`).toMatch(new RegExp(`\\| \`fwcard ${c.name()}[ \`]`));
      const section = sections.find((s) => s.startsWith(`## \`fwcard ${c.name()}\``));
      expect(section, `docs/reference.md has a section for ${c.name()}`).toBeTruthy();
      for (const o of c.options) expect(section, `docs/reference.md, ${c.name()}: ${o.flags}`).toContain(`\`${o.flags}\``);
    }
  });

  it('every relative link in the README and docs/*.md points to a file (and heading) that exists', () => {
    const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    let checked = 0;
    for (const doc of docs) {
      const text = read(doc).replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [path, hash] = target.split('#') as [string, string | undefined];
        const file = path ? resolve(dirname(join(root, doc)), path) : join(root, doc);
        expect(existsSync(file), `${doc}: link to ${target}`).toBe(true);
        if (hash && file.endsWith('.md')) expect(anchors(readFileSync(file, 'utf8')).has(hash), `${doc}: link to ${target}: no such heading`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('docs/reliability.md names every campaign bench/faults.js runs', () => {
    const plan = [...read('bench/faults.js').matchAll(/^\s*\['([a-z-]+)', \w+, \{/gm)].map((m) => m[1]!);
    expect(plan.length).toBe(6);
    const reliability = read('docs/reliability.md');
    for (const name of plan) expect(reliability, name).toMatch(new RegExp(`\\n${name} +\\|`));
  });

  it('the simulator walkthrough runs as written (prepare, simulate, flash-sdcard, power cycle, -c, mcu-info)', async () => {
    const block = shellBlocks(README).find((b) => b.includes('fwcard simulate'))!;
    const lines = block.trim().split('\n').map((l) => l.replace(/\/tmp\/octopus/g, join(dir, 'octopus')).replace(/card\.img/g, join(dir, 'card.img')));
    expect(lines.some((l) => l.startsWith('kill -USR1 %1'))).toBe(true);
    let sim: ChildProcess | undefined;
    for (const line of lines) {
      const args = line.replace(/&$/, '').trim().split(/\s+/).slice(1);
      if (line.trim().endsWith('&')) {
        expect(args[0]).toBe('simulate');
        sim = await sims.start(args.slice(1));
        expect(existsSync(join(dir, 'octopus'))).toBe(true);
        continue;
      }
      if (line.startsWith('kill -USR1 %1')) {
        // The power switch: the simulated SDIO bootloader flashes the card only now.
        expect(sim!.kill('SIGUSR1')).toBe(true);
        continue;
      }
      if (line.startsWith('kill %1')) {
        await sims.stop(sim!);
        continue;
      }
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
      if (args[0] === 'mcu-info') expect(r.stdout).toContain('v0.13.0-0-gfwcard0');
    }
  });
});

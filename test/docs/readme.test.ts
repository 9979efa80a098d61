import { describe, expect, it, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/main.js';
import { CLI, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';

// The README's commands are run here, so the docs cannot drift from the tool.
const README = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});

function shellBlocks(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function fwcardLines(): string[] {
  return shellBlocks()
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /^(fwcard|node bin\/fwcard\.js) /.test(l) || /&& node bin\/fwcard\.js /.test(l));
}

describe('README', () => {
  it('quick start 1 prepares the bundled sample into card.img and verifies it', () => {
    const quick = shellBlocks().find((b) => b.includes('npm ci && npm run build && node bin/fwcard.js prepare'));
    expect(quick, 'the quick-start command is in the README').toBeTruthy();
    // `npm ci && npm run build` already ran for this test run; run the main job as written.
    const job = quick!.trim().split('&&').map((s) => s.trim()).filter((s) => s.startsWith('node bin/fwcard.js'))[0]!;
    const args = job.split(/\s+/).slice(2);
    expect(args).toContain('card.img');
    const img = join(process.cwd(), 'card.img');
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

  it('quick start 2 installs what .ci/run installs and runs the test command CI runs', () => {
    const quick = shellBlocks().find((b) => b.includes('npm test'))!;
    const ci = readFileSync(join(process.cwd(), '.ci', 'run'), 'utf8');
    const pkgs = (s: string) => new Set([...s.matchAll(/install -y(?: -qq)? ([a-z0-9 .+-]+?)(?:\s*&&|\s*>|\n)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)));
    expect([...pkgs(quick)].sort()).toEqual([...pkgs(ci)].sort());
    expect(quick).toMatch(/npm ci && npm test/);
    expect(ci).toMatch(/\nnpm test\n/);
  });

  it('every fwcard command and option the README shows exists', async () => {
    const program = await buildProgram();
    const lines = fwcardLines();
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const words = line.replace(/^.*?(fwcard|node bin\/fwcard\.js) /, '').split(/\s+/);
      const cmd = program.commands.find((c) => c.name() === words[0]);
      expect(cmd, `README: ${line}`).toBeTruthy();
      const flags = new Set(cmd!.options.flatMap((o) => [o.short, o.long].filter(Boolean) as string[]));
      flags.add('-h');
      flags.add('--help');
      for (const w of words.slice(1)) if (/^--?[a-z]/i.test(w)) expect(flags.has(w.split('=')[0]!), `README: ${line}: ${w}`).toBe(true);
    }
  });

  it('the simulate example runs as written (prepare, simulate, mcu-info, flash-sdcard)', async () => {
    const block = shellBlocks().find((b) => b.includes('fwcard simulate'))!;
    const lines = block.trim().split('\n').map((l) => l.replace(/\/tmp\/skr/g, join(dir, 'skr')).replace(/card\.img/g, join(dir, 'card.img')));
    for (const line of lines) {
      const args = line.replace(/&$/, '').trim().split(/\s+/).slice(1);
      if (line.trim().endsWith('&')) {
        expect(args[0]).toBe('simulate');
        await sims.start(args.slice(1));
        expect(existsSync(join(dir, 'skr'))).toBe(true);
        continue;
      }
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${line}\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });
});

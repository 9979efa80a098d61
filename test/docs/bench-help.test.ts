import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Every script under bench/ answers --help (and -h) with its usage and exits without running:
// `node bench/faults.js --help` used to start a 13-minute campaign (issue 16). A script that
// ignored the flag would run its benchmark: killed at the timeout (faults.js), or ending without
// a usage text (the others).
const benchDir = join(process.cwd(), 'bench');
const scripts = readdirSync(benchDir).filter((f) => f.endsWith('.js')).sort();
// Flags only the scripts themselves pass (faults.js --jobs hands --emit-results to its children).
const internal = new Set(['--emit-results']);

/** The flags a script reads: args.includes('--x'), opt('--x'), args.indexOf('--x'). */
function flagsRead(source: string): string[] {
  const found = [...source.matchAll(/(?:includes|opt|indexOf)\('(--[a-z][a-z-]*)'/g)].map((m) => m[1]!);
  return [...new Set(found)].filter((f) => !internal.has(f) && f !== '--help');
}

describe('bench/*.js --help', () => {
  it('finds the bench scripts', () => {
    expect(scripts).toEqual(expect.arrayContaining(['faults.js', 'flash.js', 'run.js', 'startup.js']));
  });

  for (const script of scripts) {
    for (const flag of ['--help', '-h']) {
      it(`${script} ${flag} prints its usage and every option it reads, and exits 0 without running`, () => {
        const r = spawnSync(process.execPath, [join(benchDir, script), flag], { encoding: 'utf8', timeout: 60_000 });
        expect(r.signal, `${script} ${flag} was still running after 60 s: it started the benchmark`).toBeNull();
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^Usage: node bench/${script.replace('.', '\\.')}`));
        expect(r.stdout).toMatch(/-h, --help/);
        const flags = flagsRead(readFileSync(join(benchDir, script), 'utf8'));
        expect(flags.length, `${script} reads no options?`).toBeGreaterThan(0);
        for (const f of flags) expect(r.stdout, `${script} --help does not mention ${f}`).toContain(f);
        // Nothing but the usage: no benchmark line, no campaign summary on stderr.
        expect(r.stderr).toBe('');
      });
    }
  }
});

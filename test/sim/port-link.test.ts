import { existsSync, lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI, fingerprint, removeDir, tempDir, unwrapped } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';

// Issue 14: `simulate --port-link PATH` used to replace whatever was at PATH with its symlink
// and delete it on exit — a user's file was lost. Only its own (stale) link gives way now.
const dir = tempDir('fwcard-port-link-');
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});

/** A simulate that should be refused; one that serves instead is stopped after 15 s (and the test fails). */
function runCli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 15_000 });
}

/** Anything at `path`, a dangling link included (existsSync follows links). */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

describe('simulate --port-link', () => {
  it('refuses a path holding a regular file (exit 2, typed error with hint) and leaves the file byte-identical', () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'my printer settings\n');
    const before = fingerprint(path);
    const r = runCli(['simulate', '--board', 'btt-skr-v1.3', '--port-link', path]);
    expect(r.status).toBe(2);
    expect(unwrapped(r.stderr)).toContain(`fwcard: error: ${path} already exists (a file): the simulator will not replace it`);
    expect(unwrapped(r.stderr)).toMatch(/hint: Choose another --port-link path that does not exist yet/);
    expect(fingerprint(path)).toBe(before);
    expect(readFileSync(path, 'utf8')).toBe('my printer settings\n');
    const json = runCli(['simulate', '--json', '--board', 'btt-skr-v1.3', '--port-link', path]);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'port-link-exists', details: { path, what: 'a file' } } });
    expect(fingerprint(path)).toBe(before);
  });

  it("refuses a user's symlink to something else and a directory, and keeps them", () => {
    const target = join(dir, 'real-target');
    writeFileSync(target, 'x');
    const link = join(dir, 'users-link');
    symlinkSync(target, link);
    const r = runCli(['simulate', '--board', 'btt-skr-v1.3', '--port-link', link]);
    expect(r.status).toBe(2);
    expect(unwrapped(r.stderr)).toContain(`(a link to ${target})`);
    expect(readlinkSync(link)).toBe(target);
    const d = runCli(['simulate', '--board', 'btt-skr-v1.3', '--port-link', dir]);
    expect(d.status).toBe(2);
    expect(d.stderr).toContain('(a directory)');
    expect(lstatSync(dir).isDirectory()).toBe(true);
  });

  it('replaces its own stale link (to a /dev/pts/N that is gone) and removes only its link on exit', async () => {
    const path = join(dir, 'stale');
    symlinkSync('/dev/pts/987654', path);
    const sim = await sims.start(['--board', 'btt-skr-v1.3', '--port-link', path]);
    const now = readlinkSync(path);
    expect(now).toMatch(/^\/dev\/pts\/\d+$/);
    expect(now).not.toBe('/dev/pts/987654');
    expect(existsSync(now)).toBe(true);
    // A second simulator may not take over a live simulator's link.
    const second = runCli(['simulate', '--board', 'btt-skr-v1.3', '--port-link', path]);
    expect(second.status).toBe(2);
    expect(unwrapped(second.stderr)).toMatch(/a pseudo-terminal in use/);
    expect(readlinkSync(path)).toBe(now);
    await sims.stop(sim);
    expect(present(path)).toBe(false);
  });
});

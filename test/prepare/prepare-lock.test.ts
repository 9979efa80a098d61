import { describe, expect, it, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lockFileFor } from '../../src/util/lock.js';
import { fingerprint, removeDir, runCli, tempDir } from '../helpers/judges.js';

const FIRMWARE = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
const dir = tempDir();
afterAll(() => removeDir(dir));

describe('one fwcard per card', () => {
  it('refuses while another live fwcard holds the card, and takes over a stale lock', async () => {
    const img = join(dir, 'locked.img');
    expect(runCli(['prepare', img, '--size', '64M', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes']).status).toBe(0);
    const other = spawn('sleep', ['60']);
    const { file } = lockFileFor(img);
    writeFileSync(file, `${other.pid}\n${img}\n`);
    const before = fingerprint(img);
    const busy = runCli(['prepare', img, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
    expect(busy.status).toBe(2);
    const doc = JSON.parse(busy.stdout);
    expect(doc.error.code).toBe('busy-locked');
    expect(doc.error.message).toContain(String(other.pid));
    expect(fingerprint(img)).toBe(before);
    other.kill('SIGKILL');
    await new Promise((r) => other.on('exit', r));
    // The owner is gone: its lock is stale and the next run proceeds, then releases it.
    const ok = runCli(['prepare', img, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock whose pid now belongs to another process (pids wrap), by its start time', async () => {
    const img = join(dir, 'reused.img');
    expect(runCli(['prepare', img, '--size', '64M', '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes']).status).toBe(0);
    const other = spawn('sleep', ['60']);
    try {
      const stat = readFileSync(`/proc/${other.pid}/stat`, 'utf8');
      const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
      const { file } = lockFileFor(img);
      // Written by that very process: it holds the card.
      writeFileSync(file, `${other.pid}\n${img}\n${started}\n`);
      const busy = runCli(['prepare', img, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
      expect(JSON.parse(busy.stdout).error?.code).toBe('busy-locked');
      // Written by an fwcard that had the same pid and another start time: a stale lock.
      writeFileSync(file, `${other.pid}\n${img}\n${Number(started) - 1}\n`);
      const ok = runCli(['prepare', img, '--board', 'btt-octopus-f446-v1', '--firmware', FIRMWARE, '--yes', '--json']);
      expect(ok.status, ok.stdout).toBe(0);
      expect(existsSync(file)).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });
});

describe('the lock of a pseudo-terminal', () => {
  it('is one per pty, not per /dev/pts number (numbers are reused at once); a file keeps its path', async () => {
    const link = join(dir, 'pty-a');
    const socat = spawn('socat', [`pty,link=${link},raw`, `pty,link=${join(dir, 'pty-b')},raw`]);
    try {
      for (let i = 0; i < 50 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 100));
      const a = lockFileFor(link);
      const { realpathSync, statSync } = await import('node:fs');
      const real = realpathSync(link);
      expect(real).toMatch(/^\/dev\/pts\/\d+$/);
      // The key names the pty's node and the time it was made: another pty given the same
      // number later has another key, so a finishing run's lock does not refuse the new one.
      expect(a.key).toBe(`${real}#${statSync(real).ctimeMs}`);
      expect(lockFileFor(real).file).toBe(a.file);
    } finally {
      socat.kill();
      await new Promise((r) => socat.on('exit', r));
    }
    const img = join(dir, 'plain.img');
    writeFileSync(img, '');
    expect(lockFileFor(img).key).toBe(img);
  });
});

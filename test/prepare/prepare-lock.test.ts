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

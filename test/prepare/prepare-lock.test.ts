import { describe, expect, it, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
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
});

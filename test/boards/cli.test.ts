import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';

/** Run the CLI in-process and capture stdout/stderr. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'fwcard', ...args]);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

const fixture = new URL('../../fixtures/firmware/', import.meta.url).pathname;

describe('fwcard boards / inspect', () => {
  beforeEach(() => {
    process.env.FWCARD_BOARDS = '';
    process.env.XDG_CONFIG_HOME = '/nonexistent-fwcard-test';
  });
  afterEach(() => {
    delete process.env.FWCARD_BOARDS;
    delete process.env.XDG_CONFIG_HOME;
  });

  it('lists boards as one JSON document', async () => {
    const r = await run('boards', 'octopus', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.boards.map((b: { name: string }) => b.name)).toContain('btt-octopus-f446-v1');
    expect(doc.boards[0]).toHaveProperty('verify');
  });

  it('shows one board with its sources, by alias', async () => {
    const r = await run('boards', 'btt-octopus-pro-f446-v1.0', '--json');
    const doc = JSON.parse(r.stdout);
    expect(doc.board.name).toBe('btt-octopus-f446-v1');
    expect(doc.board.appStart).toEqual({ value: [0x08008000], confidence: 'verified', sources: ['B-OCT-RM', 'M-F4', 'K-cfg octopus-v1.1'] });
    const human = await run('boards', 'btt-octopus-f446-v1');
    expect(human.stdout).toMatch(/0x08008000 \(32 KiB bootloader\)/);
    expect(human.stdout).toMatch(/verified \[B-OCT-RM/);
  });

  it('suggests close names for an unknown one (exit 2, JSON error document)', async () => {
    const r = await run('boards', 'octopuss-f446', '--json');
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('unknown-board');
    expect(doc.error.details.suggestions.length).toBeGreaterThan(0);
  });

  it('inspects the quick-start fixture against its board', async () => {
    const r = await run('inspect', fixture + 'klipper-stm32f446-32k.bin', '--board', 'btt-octopus-f446-v1', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, kind: 'cortex-m', flashStart: 0x08008000, candidates: [0x08008000], mcu: 'stm32f446xx', size: 45000 });
    expect(doc.klipper).toMatchObject({ version: 'v0.13.0-0-gfwcard0', mcu: 'stm32f446xx', clockFreq: 180000000 });
    const human = await run('inspect', fixture + 'klipper-stm32f446-32k.bin', '--board', 'btt-octopus-f446-v1');
    expect(human.stdout).toMatch(/linked for 0x08008000 \(32 KiB bootloader\)/);
    expect(human.stdout).toMatch(/OK for btt-octopus-f446-v1/);
  });

  it('exits 1 with the finding when the build does not fit the board', async () => {
    const r = await run('inspect', fixture + 'klipper-stm32f446-nobootloader.bin', '--board', 'btt-octopus-f446-v1');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error: built with "No bootloader"/);
    expect(r.stdout).toMatch(/hint: Rebuild with Bootloader offset "32KiB bootloader"/);
  });

  it('exits 2 for a missing file', async () => {
    const r = await run('inspect', fixture + 'nope.bin', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('firmware-missing');
    expect(JSON.parse(r.stdout).error.hint).toMatch(/Check the path/);
  });
});

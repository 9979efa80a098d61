import { describe, expect, it, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from '../helpers/judges.js';

// `npm install -g fwcard` as a user would, from the packed tarball, into a private prefix.
const dir = tempDir();
afterAll(() => removeDir(dir));
const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'));

describe('the package', () => {
  it('packs, installs globally and runs: CLI and library', () => {
    const out = execFileSync('npm', ['pack', process.cwd(), '--pack-destination', dir, '--json', '--ignore-scripts'], { encoding: 'utf8', cwd: dir });
    const info = JSON.parse(out)[0];
    const files: string[] = info.files.map((f: { path: string }) => f.path);
    expect(files).toContain('bin/fwcard.js');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/index.js');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);
    const prefix = join(dir, 'prefix');
    const inst = spawnSync('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, join(dir, info.filename)], { encoding: 'utf8', timeout: 300_000 });
    expect(inst.status, inst.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'fwcard');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
    const fw = join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.bin');
    const r = spawnSync(bin, ['prepare', join(dir, 'card.img'), '--size', '64M', '--board', 'btt-octopus-f446-v1', '--firmware', fw, '--yes', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).verified).toBe(true);
    const lib = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(prefix, 'lib', 'node_modules', 'fwcard', 'dist', 'index.js'))}); console.log(typeof m.prepare, typeof m.flashSdcard, m.loadCatalog().get('btt-skr-v1.3').mcu)`], { encoding: 'utf8' });
    expect(lib.stdout.trim()).toBe('function function lpc1768');
  });
});

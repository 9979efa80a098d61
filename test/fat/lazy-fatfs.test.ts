import { describe, expect, it, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { removeDir, tempDir } from '../helpers/judges.js';

const dir = tempDir();
afterAll(() => removeDir(dir));

/**
 * js-fatfs (WASM) is loaded by the first mount, not by importing the modules that mount: a
 * command that never mounts a volume does not pay for it. Watched with a module-resolve hook in
 * a child process running the built code.
 */
describe('js-fatfs is loaded lazily', () => {
  it('importing prepare and the FAT volumes resolves no js-fatfs; a mount does', () => {
    writeFileSync(join(dir, 'hooks.mjs'), `export async function resolve(spec, ctx, next) {\n  if (spec === 'js-fatfs') process.stderr.write('RESOLVED js-fatfs\\n');\n  return next(spec, ctx);\n}\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
    const dist = (p: string) => pathToFileURL(join(process.cwd(), 'dist', p)).href;
    const script = `
      await import('${dist('flows/prepare.js')}');
      await import('${dist('fat/remote-volume.js')}');
      process.stderr.write('IMPORTED\\n');
      const { LocalFatVolume } = await import('${dist('fat/local-volume.js')}');
      const blank = { name: 'blank', sectorSize: 512, sectorCount: 64, readOnly: true, readSync: () => new Uint8Array(512), writeSync() {}, flushSync() {} };
      await LocalFatVolume.mount(blank).catch((e) => process.stderr.write('MOUNT ' + e.code + '\\n'));`;
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^(RESOLVED|IMPORTED|MOUNT)/.test(l));
    expect(lines).toEqual(['IMPORTED', 'RESOLVED js-fatfs', 'MOUNT no-filesystem']);
  });
});

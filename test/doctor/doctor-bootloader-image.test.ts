import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { hex } from '../../src/firmware/mcu-memory.js';
import { imageCommands, recoveryPlan, recoveryStep } from '../../src/flows/doctor/recovery.js';
import { prng } from '../../src/util/prng.js';
import { CLI, unwrapped } from '../helpers/judges.js';

// Issue 14: doctor names the stock bootloader by board, with its source, and the exact commands
// to put it back: download, hex → bin, write at the flash base, then Klipper at the application
// address. The hex → bin command is judged by running it on an Intel HEX file that
// arm-none-eabi-objcopy made from bytes we know.
const catalog = loadCatalog({ noUserConfig: true });
const dir = mkdtempSync(join(tmpdir(), 'fwcard-bl-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withImage = catalog.all().filter((b) => b.bootloaderImage);

describe('stock bootloader images in the catalog and in doctor', () => {
  it('the boards the vendors publish an image for have one, sourced, on GitHub, at the start of flash', () => {
    expect(withImage.map((b) => b.name).sort()).toEqual(
      ['btt-manta-m8p-v1', 'btt-manta-m8p-v2', 'btt-octopus-f407-v1', 'btt-octopus-f429-v1', 'btt-octopus-f446-v1', 'btt-skr-3-h723', 'fysetc-cheetah', 'fysetc-spider', 'mks-robin-e3', 'mks-robin-nano-v1.3', 'mks-robin-nano-v3', 'mks-robin-v12'].sort(),
    );
    for (const b of withImage) {
      const f = b.bootloaderImage!;
      expect(f.sources.length, b.name).toBeGreaterThan(0);
      expect(f.value.url, b.name).toBe(`https://github.com/${f.value.repository}/raw/HEAD/${f.value.path!.split('/').map(encodeURIComponent).join('/')}`);
      expect(f.value.address, b.name).toBe(0x08000000);
      expect(f.value.format, b.name).toBe(f.value.path!.endsWith('.hex') ? 'hex' : 'bin');
    }
  });

  it('each restore: download, convert a .hex, write it at the flash base, then Klipper at the application address', () => {
    for (const b of withImage) {
      const r = recoveryPlan(b);
      const step = recoveryStep(b, '~/klipper/out/klipper.bin');
      const img = b.bootloaderImage!.value;
      const bin = `${b.name}-bootloader.bin`;
      const c = step.commands;
      expect(c[0], b.name).toBe(`wget -O ${b.name}-bootloader.${img.format} ${/%/.test(img.url) ? `'${img.url}'` : img.url}`);
      if (img.format === 'hex') expect(c[1], b.name).toBe(`fwcard inspect ${b.name}-bootloader.hex --to-bin ${bin}`);
      const app = hex(r.appStart!);
      if (r.tool === 'dfu-util') expect(c.slice(-2), b.name).toEqual([`dfu-util -a 0 -d 0483:df11 -s 0x08000000 -D ${bin}`, `dfu-util -a 0 -d 0483:df11 -s ${app}:leave -D ~/klipper/out/klipper.bin`]);
      else expect(c.slice(-2), b.name).toEqual([`st-flash write ${bin} 0x08000000`, `st-flash --reset write ~/klipper/out/klipper.bin ${app}`]);
      const text = step.details.join('\n');
      expect(text, b.name).toContain(`${img.path} in github.com/${img.repository}`);
      expect(text, b.name).toContain(b.bootloaderImage!.sources.join(', '));
    }
  });

  it('the printed hex → bin command gives back the bytes the hex holds, from the flash base (arm-none-eabi-objcopy as judge)', () => {
    const board = catalog.get('btt-octopus-f446-v1');
    const bytes = new Uint8Array(32 * 1024);
    const rnd = prng(14);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
    writeFileSync(join(dir, 'bl.bin'), bytes);
    execFileSync('arm-none-eabi-objcopy', ['-I', 'binary', '-O', 'ihex', '--change-addresses', '0x08000000', 'bl.bin', `${board.name}-bootloader.hex`], { cwd: dir });
    expect(readFileSync(join(dir, `${board.name}-bootloader.hex`), 'latin1')).toMatch(/^:020000040800F2/m);
    const { commands, bin } = imageCommands(board, board.bootloaderImage!.value);
    const convert = commands[1]!.split(' ');
    expect(convert[0]).toBe('fwcard');
    // fwcard's own conversion, as printed, judged against the bytes and against objcopy's.
    execFileSync(process.execPath, [CLI, ...convert.slice(1)], { cwd: dir });
    expect(Buffer.from(readFileSync(join(dir, bin))).equals(Buffer.from(bytes))).toBe(true);
    execFileSync('arm-none-eabi-objcopy', ['-I', 'ihex', '-O', 'binary', `${board.name}-bootloader.hex`, 'objcopy.bin'], { cwd: dir });
    expect(Buffer.from(readFileSync(join(dir, bin))).equals(readFileSync(join(dir, 'objcopy.bin')))).toBe(true);
    // Run again: the .bin it made is there now, and fwcard does not overwrite a file.
    const again = spawnSync(process.execPath, [CLI, ...convert.slice(1)], { cwd: dir, encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(unwrapped(again.stderr)).toMatch(/already exists; fwcard does not overwrite it/);
  });
});

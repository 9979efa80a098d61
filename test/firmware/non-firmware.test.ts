import { describe, expect, it } from 'vitest';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { errors } from './helpers.js';

function elf32(loadAddr: number): Uint8Array {
  const b = new Uint8Array(52 + 32 + 64);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 40, true); // EM_ARM
  v.setUint32(20, 1, true);
  v.setUint32(24, loadAddr + 0x1c9, true); // entry
  v.setUint32(28, 52, true); // phoff
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true); // phentsize
  v.setUint16(44, 1, true); // phnum
  v.setUint32(52, 1, true); // PT_LOAD
  v.setUint32(52 + 4, 0x10000, true);
  v.setUint32(52 + 8, loadAddr, true);
  v.setUint32(52 + 12, loadAddr, true);
  v.setUint32(52 + 16, 64, true);
  v.setUint32(52 + 20, 64, true);
  return b;
}

describe('files that are not a firmware image', () => {
  it('says an ELF is the ELF and to use the .bin, with its load address', () => {
    const r = inspectFirmware(elf32(0x08008000), { fileName: 'out/klipper.elf' });
    expect(r.kind).toBe('elf');
    expect(errors(r)).toEqual(['elf-not-bin']);
    const f = r.findings[0]!;
    expect(f.message).toMatch(/this is the ELF/);
    expect(f.hint).toBe('Use the .bin of the same build (out/klipper.bin).');
    expect(r.flashStart).toBe(0x08008000);
    expect(r.elf).toEqual({ machine: 40, entry: 0x080081c9, loadAddress: 0x08008000 });
  });

  it('rejects a PNG', () => {
    const png = new Uint8Array(2000);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const r = inspectFirmware(png);
    expect(r.kind).toBe('unknown');
    expect(r.format).toBe('PNG image');
    expect(errors(r)).toEqual(['not-firmware']);
  });

  it('rejects a text file, an HTML page and an Intel HEX file, each by name', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const cfg = inspectFirmware(enc('[mcu]\nserial: /dev/serial/by-id/usb-Klipper\n'.repeat(20)));
    expect(cfg.format).toBe('text file');
    expect(errors(cfg)).toEqual(['not-firmware']);
    const html = inspectFirmware(enc('<!DOCTYPE html><html><body>Not Found</body></html>'));
    expect(html.format).toBe('HTML page');
    const hex = inspectFirmware(enc(':020000040800F2\n:10000000000002200980000835830008D9820008A3\n:00000001FF\n'));
    expect(errors(hex)).toEqual(['hex-not-bin']);
  });

  it('rejects an empty file', () => {
    const r = inspectFirmware(new Uint8Array(0));
    expect(r.size).toBe(0);
    expect(errors(r)).toEqual(['empty-file']);
    expect(r.findings[0]!.message).toBe('the file is empty (0 bytes)');
  });

  it('rejects bytes without a Cortex-M vector table', () => {
    const junk = new Uint8Array(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 73 + 11) & 0xff || 1;
    const r = inspectFirmware(junk);
    expect(r.kind).toBe('unknown');
    expect(errors(r)).toEqual(['not-cortex-m']);
  });

  it('returns one JSON-serialisable document', () => {
    const r = inspectFirmware(new Uint8Array(0));
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

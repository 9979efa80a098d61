import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { errors } from './helpers.js';

describe('files that are not a firmware image', () => {
  it('rejects a PNG', () => {
    const png = new Uint8Array(2000);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const r = inspectFirmware(png);
    expect(r.kind).toBe('unknown');
    expect(r.format).toBe('PNG image');
    expect(errors(r)).toEqual(['not-firmware']);
  });

  it('rejects a text file, an HTML page and a damaged Intel HEX file, each by name', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const cfg = inspectFirmware(enc('[mcu]\nserial: /dev/serial/by-id/usb-Klipper\n'.repeat(20)));
    expect(cfg.format).toBe('text file');
    expect(errors(cfg)).toEqual(['not-firmware']);
    const html = inspectFirmware(enc('<!DOCTYPE html><html><body>Not Found</body></html>'));
    expect(html.format).toBe('HTML page');
    const hex = inspectFirmware(enc(':020000040800F2\n:10000000000002200980000835830008D9820008A3\n:00000001FF\n'));
    expect(hex.format).toBe('Intel HEX file');
    expect(errors(hex)).toEqual(['hex-damaged']); // line 2's checksum is wrong
  });

  it('names a Klipper data dictionary (out/klipper.dict) and what it is for, with its version and MCU (issue 16)', () => {
    const dict = new Uint8Array(readFileSync(join(process.cwd(), 'fixtures', 'firmware', 'klipper-stm32f446-32k.dict')));
    const r = inspectFirmware(dict);
    expect(r.format).toBe('Klipper data dictionary');
    expect(errors(r)).toEqual(['klipper-dictionary']); // still refused as firmware: prepare must not write it
    const version = JSON.parse(Buffer.from(dict).toString('utf8')).version as string;
    expect(r.findings[0]!.message).toBe(`this is a Klipper data dictionary (out/klipper.dict) of Klipper ${version} for stm32f446xx, not firmware`);
    expect(r.findings[0]!.hint).toMatch(/flash-sdcard -d klipper\.dict/);
    expect(r.findings[0]!.message).not.toMatch(/text file/);
    // JSON that is not a dictionary stays a text file.
    expect(inspectFirmware(new TextEncoder().encode('{"commands": 1}\n'.repeat(3))).format).toBe('text file');
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

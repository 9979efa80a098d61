/**
 * ELF and Intel HEX files, converted as GNU objcopy converts them. The judge is binutils'
 * arm-none-eabi-objcopy (Debian: binutils-arm-none-eabi, installed by .ci/run): every
 * conversion here is compared with its output byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { elfToBinary, parseElfFile } from '../../src/firmware/elf.js';
import { firmwareImage } from '../../src/firmware/containers.js';
import { hexToBinary, parseIntelHex } from '../../src/firmware/intel-hex.js';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { checkFirmwareForBoard } from '../../src/flows/firmware-check.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { elfOfSyntheticFirmware, makeSyntheticElf } from '../../fixtures/synth/elf.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { catalog, errors, ids } from './helpers.js';

const dir = tempDir('fwcard-elf-');
afterAll(() => removeDir(dir));
let n = 0;

/** arm-none-eabi-objcopy [-I in] -O binary of `bytes`. */
function objcopyBinary(bytes: Uint8Array | string, input?: 'ihex'): Uint8Array {
  const i = join(dir, `in${++n}`);
  const o = join(dir, `out${n}.bin`);
  writeFileSync(i, bytes);
  execFileSync('arm-none-eabi-objcopy', [...(input ? ['-I', input] : []), '-O', 'binary', i, o]);
  return new Uint8Array(readFileSync(o));
}

function objcopyToHex(bin: Uint8Array, address: number): string {
  const i = join(dir, `bin${++n}`);
  const o = join(dir, `out${n}.hex`);
  writeFileSync(i, bin);
  execFileSync('arm-none-eabi-objcopy', ['-I', 'binary', '-O', 'ihex', '--change-addresses', `0x${address.toString(16)}`, i, o]);
  return readFileSync(o, 'latin1');
}

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('ELF → binary as objcopy -O binary', () => {
  const cases: [string, number, boolean][] = [
    ['stm32f446xx', 0x08008000, true],
    ['stm32f103xe', 0x08008800, true], // 34 KiB: the first PT_LOAD starts at the page 0x08008000
    ['stm32f429xx', 0x08020200, true],
    ['lpc1769', 0x4000, false],
    ['hc32f460', 0xc000, true],
    ['stm32g0b1xx', 0x08000000, false],
  ];
  for (const [mcu, base, headers] of cases) {
    it(`${mcu} linked at 0x${base.toString(16)}: same bytes as objcopy, and as the image itself`, () => {
      const fw = makeSyntheticFirmware({ mcu, flashStart: base, size: 30000, klipper: true, seed: base });
      const elf = elfOfSyntheticFirmware(fw, { headersInFirstSegment: headers, ...(mcu.startsWith('lpc') ? { ramStart: 0x10000000 } : {}) });
      const ours = elfToBinary(elf);
      const judge = objcopyBinary(elf);
      expect(ours.address).toBe(base);
      expect(eq(ours.bytes, judge)).toBe(true);
      expect(eq(ours.bytes, fw.bytes)).toBe(true);
    });
  }

  it('places sections by load address, fills gaps with 0, leaves out NOBITS, empty and non-allocated sections', () => {
    const bytes = (len: number, seed: number) => Uint8Array.from({ length: len }, (_, i) => (i * 31 + seed) & 0xff);
    const elf = makeSyntheticElf({
      entry: 0x08004001,
      headersInFirstSegment: true,
      sections: [
        { name: '.isr_vector', kind: 'progbits', alloc: true, vma: 0x08004000, data: bytes(0x1c4, 1) },
        { name: '.text', kind: 'progbits', alloc: true, exec: true, vma: 0x08004200, data: bytes(0x1003, 2) },
        { name: '.empty', kind: 'progbits', alloc: true, vma: 0x08006000, data: new Uint8Array(0) },
        { name: '.rodata', kind: 'progbits', alloc: true, vma: 0x08006000, data: bytes(0x155, 3) },
        { name: '.data', kind: 'progbits', alloc: true, write: true, vma: 0x20000000, lma: 0x08006158, data: bytes(0x48, 4) },
        { name: '.bss', kind: 'nobits', alloc: true, write: true, vma: 0x20000048, size: 0x1000 },
        { name: '.ccmram', kind: 'progbits', alloc: true, write: true, vma: 0x10000000, lma: 0x080061a0, data: bytes(0x10, 5) },
        { name: '.comment', kind: 'progbits', alloc: false, vma: 0, data: bytes(0x40, 6) },
      ],
    });
    const ours = elfToBinary(elf);
    const judge = objcopyBinary(elf);
    expect(ours.bytes.length).toBe(judge.length);
    expect(eq(ours.bytes, judge)).toBe(true);
    expect(ours.address).toBe(0x08004000);
    expect(ours.sections.map((s) => s.name)).toEqual(['.isr_vector', '.text', '.rodata', '.data', '.ccmram']);
    expect(ours.bytes[0x1c4]).toBe(0); // gap between .isr_vector and .text
  });

  it('agrees with objcopy on an ELF that GNU as and ld made (AT> load addresses)', () => {
    const src = join(dir, 'a.s');
    const lds = join(dir, 'a.ld');
    const obj = join(dir, 'a.o');
    const out = join(dir, 'a.elf');
    writeFileSync(src, ['.syntax unified', '.thumb', '.section .vectors,"a"', '.word 0x20008000', '.word reset+1', '.text', 'reset: b reset', '.word 0x12345678', '.section .rodata', '.asciz "fwcard"', '.data', '.word 0xcafef00d', '.word 7', '.bss', '.space 64', ''].join('\n'));
    writeFileSync(lds, 'MEMORY { rom (rx) : ORIGIN = 0x08008800, LENGTH = 64K  ram (rwx) : ORIGIN = 0x20000000, LENGTH = 8K }\nSECTIONS { .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) . = ALIGN(4); } > rom\n .data : { *(.data*) } > ram AT> rom\n .bss (NOLOAD) : { *(.bss*) } > ram }\n');
    execFileSync('arm-none-eabi-as', ['-mcpu=cortex-m3', '-o', obj, src]);
    execFileSync('arm-none-eabi-ld', ['-T', lds, '-o', out, obj]);
    const elf = new Uint8Array(readFileSync(out));
    const ours = elfToBinary(elf);
    expect(ours.address).toBe(0x08008800);
    expect(eq(ours.bytes, objcopyBinary(elf))).toBe(true);
    expect(parseElfFile(elf).sections.find((s) => s.name === '.data')!.lma).toBeGreaterThan(0x08008800);
  });
});

describe('inspect, prepare and flash-sdcard take klipper.elf', () => {
  it('reports the link address of the vector-table section (0x08008800, not the segment page 0x08008000), the MCU and the version', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08008800, size: 30000, klipperVersion: 'v0.13.0-99-gabcdef12' });
    const elf = elfOfSyntheticFirmware(fw);
    expect(parseElfFile(elf).segments[0]!.paddr).toBe(0x08008000); // what a page-based reading would report
    const r = inspectFirmware(elf, { fileName: 'out/klipper.elf' });
    expect(r.kind).toBe('elf');
    expect(r.flashStart).toBe(0x08008800);
    expect(r.linkAddress).toMatchObject({ value: 0x08008800, confidence: 'certain' });
    expect(r.linkAddress.basis).toMatch(/ELF section \.text/);
    expect(r.mcu).toBe('stm32f103xe');
    expect(r.klipper?.version).toBe('v0.13.0-99-gabcdef12');
    expect(r.elf).toMatchObject({ machine: 40, loadAddress: 0x08008800, vectorSection: '.text' });
    expect(errors(r)).toEqual([]);
    expect(ids(r)).toContain('elf-converted');
  });

  it('checks an ELF against a board like its .bin, and writes the .bin bytes', () => {
    const board = catalog.get('btt-octopus-f446-v1');
    const good = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, size: 40000, klipper: true });
    const c = checkFirmwareForBoard(elfOfSyntheticFirmware(good), board, 'out/klipper.elf');
    expect(errors(c.report)).toEqual([]);
    expect(eq(c.writeBytes, good.bytes)).toBe(true);
    const noBoot = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08000000, size: 40000, klipper: true });
    expect(errors(inspectFirmware(elfOfSyntheticFirmware(noBoot), { board }))).toEqual(['no-bootloader-build']);
    // firmwareImage leaves plain images alone
    expect(firmwareImage(good.bytes)).toBe(good.bytes);
  });

  it('refuses ELF files that are not for ARM, or not ELF32 little-endian, with a typed reason', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, size: 20000 });
    const elf = elfOfSyntheticFirmware(fw);
    const x86 = Uint8Array.from(elf);
    new DataView(x86.buffer).setUint16(18, 3, true);
    expect(errors(inspectFirmware(x86))).toEqual(['elf-not-arm']);
    const elf64 = Uint8Array.from(elf);
    elf64[4] = 2;
    expect(errors(inspectFirmware(elf64))).toEqual(['elf-unreadable']);
    expect(() => parseElfFile(elf64)).toThrow(FormatError);
  });
});

describe('Intel HEX', () => {
  it('decodes what objcopy writes and converts back exactly as objcopy -I ihex -O binary', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f407xx', flashStart: 0x08000000, size: 70000, seed: 4 }); // crosses 64 KiB: a type 04 record
    const text = objcopyToHex(fw.bytes, 0x08000000);
    expect(text).toMatch(/^:02000004080[01]/m);
    const bin = hexToBinary(text);
    expect(bin.address).toBe(0x08000000);
    expect(eq(bin.bytes, fw.bytes)).toBe(true);
    expect(eq(bin.bytes, objcopyBinary(text, 'ihex'))).toBe(true);
  });

  it('handles type 02 segments, start records and gaps like objcopy', () => {
    const rec = (type: number, addr: number, data: number[]) => {
      const b = [data.length, (addr >> 8) & 0xff, addr & 0xff, type, ...data];
      const sum = b.reduce((s, x) => s + x, 0);
      return ':' + Buffer.from([...b, (0x100 - (sum & 0xff)) & 0xff]).toString('hex').toUpperCase();
    };
    const text = [
      rec(2, 0, [0x10, 0x00]), // segment 0x1000 → base 0x10000
      rec(0, 0x0010, [1, 2, 3, 4]),
      rec(4, 0, [0x00, 0x01]), // linear 0x00010000, added to the segment base as binutils does
      rec(0, 0x0040, [9, 8, 7]),
      rec(3, 0, [0x10, 0x00, 0x00, 0x11]),
      rec(5, 0, [0x00, 0x01, 0x00, 0x41]),
      rec(1, 0, []),
    ].join('\r\n') + '\r\n';
    const h = parseIntelHex(text);
    expect(h.segments.map((s) => [s.address, s.bytes.length])).toEqual([[0x10010, 4], [0x20040, 3]]);
    expect(h.startAddress).toBe(0x00010041);
    const bin = hexToBinary(h);
    expect(bin.address).toBe(0x10010);
    expect(eq(bin.bytes, objcopyBinary(text, 'ihex'))).toBe(true);
  });

  it('throws a typed error naming the line of a bad checksum, a bad record or a missing end', () => {
    const bad = ':020000040800F2\n:10000000000002200980000835830008D9820008A3\n:00000001FF\n';
    let err: unknown;
    try {
      parseIntelHex(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).code).toBe('ihex-checksum');
    expect((err as FormatError).message).toMatch(/line 2: checksum A3 should be 1A/);
    expect(() => parseIntelHex(':020000040800F2\n')).toThrow(/no end-of-file record/);
    expect(() => parseIntelHex(':0100000600F9\n:00000001FF\n')).toThrow(/unknown record type 06/);
    expect(() => parseIntelHex(':0200000408F2\n:00000001FF\n')).toThrow(/holds 1/);
  });

  it('inspect reports the address range and judges the image inside', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, size: 40000, klipper: true });
    const text = objcopyToHex(fw.bytes, 0x08008000);
    const r = inspectFirmware(new TextEncoder().encode(text), { board: catalog.get('btt-octopus-f446-v1') });
    expect(r.kind).toBe('intel-hex');
    expect(r.hex).toMatchObject({ low: 0x08008000, high: 0x08008000 + 40000 });
    expect(r.linkAddress).toMatchObject({ value: 0x08008000, confidence: 'certain' });
    expect(r.mcu).toBe('stm32f446xx');
    expect(errors(r)).toEqual([]);
    const damaged = inspectFirmware(new TextEncoder().encode(text.replace(/..\r?\n/, '00\n')));
    expect(errors(damaged)).toEqual(['hex-damaged']);
  });
});

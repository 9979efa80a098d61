import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chituEncode } from '../../src/firmware/chitu.js';
import { inspectFirmware } from '../../src/firmware/inspect.js';
import { mksRobinXor } from '../../src/firmware/mks-robin.js';
import { extractKlipperDictionary, findKlipperDictionary } from '../../src/firmware/klipper-dictionary.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { encodedToMsgId } from '../../src/sim/dictionary-builder.js';
import { catalog, errors } from './helpers.js';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../fixtures/firmware/${name}`, import.meta.url)));

describe('Klipper data dictionary', () => {
  it('extracts exactly the dictionary that was embedded', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, size: 45000, klipper: { version: 'v0.12.0-123-gabc' } });
    const d = extractKlipperDictionary(fw.bytes);
    expect(d).toEqual(fw.dictionary);
    expect(JSON.stringify(d)).toBe(fw.dictionaryJson); // keys already sorted, compact
    const found = findKlipperDictionary(fw.bytes)!;
    expect(found.offset).toBe(fw.layout.dictionaryOffset);
    expect(fw.bytes[found.offset]).toBe(0x78);
    expect(fw.bytes[found.offset + 1]).toBe(0xda); // zlib level 9, as buildcommands.py
  });

  it('has Klipper’s shape: identify messages fixed, ids in VLQ form, config constants', () => {
    const d = makeSyntheticFirmware({ mcu: 'stm32f446xx', klipper: { interface: { kind: 'serial' } } }).dictionary!;
    expect(d.commands['identify offset=%u count=%c']).toBe(1);
    expect(d.responses['identify_response offset=%u data=%.*s']).toBe(0);
    expect(d.config).toMatchObject({ MCU: 'stm32f446xx', CLOCK_FREQ: 180000000, SERIAL_BAUD: 250000, RECEIVE_WINDOW: 192 });
    expect(d.enumerations.pin!.PA0).toEqual([0, 16]);
    expect(Object.keys(d).sort()).toEqual(['app', 'build_versions', 'commands', 'config', 'enumerations', 'license', 'responses', 'version']);
    const all = [...Object.values(d.commands), ...Object.values(d.responses)];
    expect(new Set(all).size).toBe(all.length);
  });

  it('converts encoded message ids like msgproto (0x60..0x7f are negative)', () => {
    expect(encodedToMsgId(5)).toBe(5);
    expect(encodedToMsgId(0x5f)).toBe(0x5f);
    expect(encodedToMsgId(0x60)).toBe(-32);
    expect(encodedToMsgId(0x7f)).toBe(-1);
    expect(encodedToMsgId(0x80)).toBe(128);
    expect(encodedToMsgId(0x3000)).toBe(-0x1000);
  });

  it('is read from files as they sit on MKS Robin and Chitu cards', () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, size: 20000, klipper: true, seed: 4 });
    const scrambled = mksRobinXor(fw.bytes);
    expect(findKlipperDictionary(scrambled)).toBeNull(); // the dictionary sits inside the XORed range
    expect(extractKlipperDictionary(scrambled)).toEqual(fw.dictionary);
    expect(extractKlipperDictionary(chituEncode(fw.bytes))).toEqual(fw.dictionary);
  });

  it('is absent from a plain build', () => {
    expect(extractKlipperDictionary(makeSyntheticFirmware({ mcu: 'stm32f103xe' }).bytes)).toBeNull();
    expect(extractKlipperDictionary(new Uint8Array(0))).toBeNull();
  });

  it('is found in the README quick-start fixture, whose .dict file is the same dictionary', () => {
    const bin = fixture('klipper-stm32f446-32k.bin');
    const dictText = readFileSync(new URL('../../fixtures/firmware/klipper-stm32f446-32k.dict', import.meta.url), 'utf8');
    expect(bin.length).toBeGreaterThan(40000);
    expect(bin.length).toBeLessThan(50000);
    expect(extractKlipperDictionary(bin)).toEqual(JSON.parse(dictText));
    const r = inspectFirmware(bin, { board: catalog.get('btt-octopus-f446-v1') });
    expect(r).toMatchObject({ kind: 'cortex-m', flashStart: 0x08008000, mcu: 'stm32f446xx', candidates: [0x08008000] });
    expect(r.klipper).toMatchObject({ mcu: 'stm32f446xx', clockFreq: 180000000, interface: { kind: 'usb' } });
    expect(errors(r)).toEqual([]);
  });
});

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chituDecode, chituEncode, isChituCbd } from '../../src/firmware/chitu.js';
import { convertForBoard } from '../../src/firmware/convert.js';
import { inspectFirmware, isMksScrambled } from '../../src/firmware/inspect.js';
import { mksRobinXor } from '../../src/firmware/mks-robin.js';
import { makeSyntheticFirmware } from '../../fixtures/synth/firmware.js';
import { catalog, errors, ids } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const robinImage = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, size: 40000, klipper: true, seed: 12 }).bytes;
const chituImage = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08008800, size: 40001, klipper: true, seed: 7 }).bytes;

describe('MKS Robin XOR', () => {
  it('round-trips and only touches bytes 320..31039', () => {
    const s = mksRobinXor(robinImage);
    expect(mksRobinXor(s)).toEqual(robinImage);
    expect(s.subarray(0, 320)).toEqual(robinImage.subarray(0, 320));
    expect(s.subarray(31040)).toEqual(robinImage.subarray(31040));
    expect(s.subarray(320, 31040)).not.toEqual(robinImage.subarray(320, 31040));
    expect(s[320]).toBe(robinImage[320]! ^ 0xa3); // key[320 & 31 = 0]
    expect(s[351]).toBe(robinImage[351]! ^ 0x3e); // key[31]
    const tiny = Uint8Array.from({ length: 100 }, (_, i) => i);
    expect(mksRobinXor(tiny)).toEqual(tiny);
  });

  it('matches scripts/update_mks_robin.py byte for byte (known answer)', () => {
    expect(sha(chituImage)).toBe('9ad709c98800592b0805b1968774094c6d1d7eb2b11a6e7b90c90b1564c4a010'); // generator unchanged
    // Hash of update_mks_robin.py's output for this input, taken once when the code was written.
    expect(sha(mksRobinXor(chituImage))).toBe('5ae8403cb0e616cdf26411a43ed6c7531a6d83224d5f18a43091e309cc1f5e1a');
  });

  it('is recognised, unscrambled and inspected', () => {
    const s = mksRobinXor(robinImage);
    expect(isMksScrambled(s)).toBe(true);
    expect(isMksScrambled(robinImage)).toBe(false);
    const r = inspectFirmware(s, { board: catalog.get('mks-robin-v12') });
    expect(r.kind).toBe('mks-scrambled');
    expect(r.flashStart).toBe(0x08007000);
    expect(r.klipper?.mcu).toBe('stm32f103xe');
    expect(errors(r)).toEqual([]);
    expect(errors(inspectFirmware(s, { board: catalog.get('btt-skr-mini-e3-v2') }))).toEqual(['scrambled-for-other-board']);
    expect(ids(inspectFirmware(robinImage, { board: catalog.get('mks-robin-v12') }))).toContain('will-scramble');
  });
});

describe('Chitu .cbd', () => {
  it('round-trips: decode(encode(x)) is x plus the "0x0" block padding', () => {
    const cbd = chituEncode(chituImage);
    expect(isChituCbd(cbd)).toBe(true);
    expect(Array.from(cbd.subarray(0, 4))).toEqual([0x44, 0x3d, 0x2d, 0x3f]);
    expect((cbd.length - 12) % 0x800).toBe(0);
    const d = chituDecode(cbd);
    expect(d.checksumOk).toBe(true);
    expect(d.image.subarray(0, chituImage.length)).toEqual(chituImage);
    expect(Buffer.from(d.image.subarray(chituImage.length, chituImage.length + 6)).toString('latin1')).toBe('0x00x0');
  });

  it('matches scripts/update_chitu.py byte for byte (known answer)', () => {
    // Hash of update_chitu.py's output for this input, taken once when the code was written.
    expect(sha(chituEncode(chituImage))).toBe('74ec27bb27600dadd69d902e5a78ccb3b782d578b2c3a577f4c47e1be1abb673');
  });

  it('detects a damaged file', () => {
    const cbd = chituEncode(chituImage);
    cbd[5000]! ^= 0x55;
    expect(chituDecode(cbd).checksumOk).toBe(false);
    expect(errors(inspectFirmware(cbd))).toContain('chitu-checksum');
  });

  it('is decoded and inspected', () => {
    const cbd = chituEncode(chituImage);
    const r = inspectFirmware(cbd, { board: catalog.get('chitu-v6') });
    expect(r.kind).toBe('chitu-cbd');
    expect(r.flashStart).toBe(0x08008800);
    expect(r.linkedFor).toBe('0x08008800 (34 KiB bootloader)');
    expect(errors(r)).toEqual([]);
    expect(errors(inspectFirmware(cbd, { board: catalog.get('creality-v4.2.2') }))).toContain('encoded-for-other-board');
  });
});

describe('convertForBoard', () => {
  it('scrambles for MKS boards, encodes for Chitu, copies otherwise, never twice', () => {
    const mks = catalog.get('mks-robin-e3');
    const once = convertForBoard(robinImage, mks);
    expect(once).toEqual(mksRobinXor(robinImage));
    expect(convertForBoard(once, mks)).toEqual(once);
    const neptune = catalog.get('elegoo-neptune2-znp-v1.2'); // no Klipper definition, conversion from the catalog
    expect(convertForBoard(robinImage, neptune)).toEqual(once);

    const chitu = catalog.get('chitu-v6');
    const cbd = convertForBoard(chituImage, chitu);
    expect(cbd).toEqual(chituEncode(chituImage));
    expect(convertForBoard(cbd, chitu)).toEqual(cbd);

    const plain = convertForBoard(robinImage, catalog.get('btt-octopus-f446-v1'));
    expect(plain).toEqual(robinImage);
    expect(plain).not.toBe(robinImage);
  });
});

import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataDictionary, expandEnumerations } from '../../src/klipper/dictionary.js';
import { resolveFormat, FORMATS } from '../../src/klipper/command-formats.js';
import { MessageFormat } from '../../src/klipper/message-format.js';

// Written from docs/Protocol.md and scripts/buildcommands.py's documented output shape.
const RAW = {
  app: 'Klipper',
  build_versions: 'gcc: (test) 1 binutils: (test) 2',
  version: 'v0.12.0-100-gabcdef',
  license: 'GNU GPLv3',
  commands: {
    'identify offset=%u count=%c': 1,
    'get_config': 5,
    'config_spi oid=%c pin=%u': 7,
    'spi_set_software_bus oid=%c miso_pin=%u mosi_pin=%u sclk_pin=%u mode=%u rate=%u': 8,
    'spi_transfer oid=%c data=%*s': 9,
    'set_value oid=%c v=%i w=%hi x=%hu': 200,
    'big_id': -3000,
  },
  responses: {
    'identify_response offset=%u data=%.*s': 0,
    'config is_config=%c crc=%u move_count=%hu is_shutdown=%c': 6,
    'shutdown clock=%u static_string_id=%hu': 10,
    'spi_transfer_response oid=%c response=%*s': 11,
  },
  output: { 'The value of %u is %s with size %u.': 12 },
  enumerations: {
    pin: { PA0: [0, 16], PB0: [16, 16], 'P1.0': [32, 32] },
    spi_bus: { spi1: 0, spi2a: 3 },
    static_string_id: { 'Timer too close': 2, 'Invalid spi config': 3 },
  },
  config: { MCU: 'stm32f103xe', CLOCK_FREQ: 72000000, SERIAL_BAUD: 250000, RECEIVE_WINDOW: 192 },
};

describe('enumerations', () => {
  it('expands ranged entries as msgproto.fill_enumerations does', () => {
    const e = expandEnumerations(RAW.enumerations as never);
    const pin = e.get('pin')!;
    expect(pin.get('PA0')).toBe(0);
    expect(pin.get('PA15')).toBe(15);
    expect(pin.has('PA16')).toBe(false);
    expect(pin.get('PB3')).toBe(19);
    expect(pin.get('P1.0')).toBe(32);
    expect(pin.get('P1.31')).toBe(63);
    expect(e.get('spi_bus')!.get('spi2a')).toBe(3);
  });

  it('applies to parameters named like the enumeration or ending in _<name>', () => {
    const d = new DataDictionary(RAW as never);
    const sw = d.find('spi_set_software_bus')!;
    const bytes = sw.encode({ oid: 0, miso_pin: 'PB8', mosi_pin: 'P1.2', sclk_pin: 'PA15', mode: 0, rate: 400000 });
    expect(bytes.slice(1, 5)).toEqual([0, 24, 34, 15]);
    // PC8 is not in this dictionary (only PA/PB/P1 ports)
    expect(() => sw.encode({ oid: 0, miso_pin: 'PC8', mosi_pin: 'PB0', sclk_pin: 'PB1', mode: 0, rate: 1 })).toThrow(/PC8/);
    // "oid" and "mode" are plain integers, "spi_bus" takes a bus name
    const decoded = sw.decode(Uint8Array.from(bytes), 0, bytes.length).params;
    expect(decoded.miso_pin).toBe('PB8');
    expect(decoded.mode).toBe(0);
  });
});

describe('DataDictionary', () => {
  const d = DataDictionary.fromCompressed(new Uint8Array(deflateSync(JSON.stringify(RAW))));

  it('reads constants, versions and static strings', () => {
    expect(d.constant('MCU')).toBe('stm32f103xe');
    expect(d.constantNumber('CLOCK_FREQ')).toBe(72000000);
    expect(d.version).toBe('v0.12.0-100-gabcdef');
    expect(d.app).toBe('Klipper');
    expect(d.staticString(3)).toBe('Invalid spi config');
    expect(d.staticString(99)).toBeUndefined();
  });

  it('encodes and decodes every parameter type', () => {
    const f = d.find('set_value')!;
    const bytes = f.encode({ oid: 3, v: -5, w: -300, x: 65535 });
    expect(bytes.slice(0, 2)).toEqual([0x81, 0x48]); // msgid 200 as VLQ
    const back = f.decode(Uint8Array.from(bytes), 0, bytes.length);
    expect(back.params).toEqual({ oid: 3, v: -5, w: -300, x: 65535 });
    const t = d.find('spi_transfer')!;
    const tb = t.encode({ oid: 1, data: Uint8Array.of(0xff, 0x40) });
    expect(tb).toEqual([9, 1, 2, 0xff, 0x40]);
  });

  it('handles negative message ids (two-byte encoded ids past 0x3000)', () => {
    const f = d.find('big_id')!;
    const bytes = Uint8Array.from(f.encode({}));
    expect(d.decodeAll(bytes)[0]!.name).toBe('big_id');
  });

  it('decodes responses with enumerations and output() text', () => {
    const sh = new MessageFormat(10, 'shutdown clock=%u static_string_id=%hu');
    const content = Uint8Array.from([...sh.encode({ clock: 123456, static_string_id: 3 })]);
    const [m] = d.decodeAll(content);
    expect(m!.name).toBe('shutdown');
    expect(m!.params.static_string_id).toBe('Invalid spi config');
    const out = Uint8Array.from([12, 7, 3, 0x61, 0x62, 0x63, 3]);
    expect(d.decodeAll(out)[0]!.params['#msg']).toBe('The value of 7 is "abc" with size 3.');
  });

  it('resolves the older command and response shapes spi_flash.py falls back to', () => {
    expect(resolveFormat(d, FORMATS.config)!.index).toBe(1);
    expect(resolveFormat(d, FORMATS.configSpi)!.index).toBe(1);
    expect(resolveFormat(d, FORMATS.spiSetSwBus)!.index).toBe(1);
    expect(resolveFormat(d, FORMATS.sdioSetBus)).toBeUndefined();
  });
});

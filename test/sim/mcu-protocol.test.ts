import { describe, expect, it } from 'vitest';
import { BlockDecoder, encodeBlock, MESSAGE_SYNC } from '../../src/klipper/frame.js';
import { DataDictionary } from '../../src/klipper/dictionary.js';
import { SimMcu } from '../../src/sim/mcu.js';
import { mcuProfile } from '../../src/sim/mcu-profile.js';
import { buildSimDictionary } from '../../src/sim/sim-dictionary.js';
import { encodeVlq } from '../../src/klipper/vlq.js';

/** Drive the device side directly, byte for byte, as a host would. */
function harness(rxBufferSize?: number) {
  const profile = mcuProfile('stm32f446xx');
  const raw = buildSimDictionary({ profile, link: 'uart' });
  const dict = new DataDictionary(raw);
  const out: Uint8Array[] = [];
  const mcu = new SimMcu({ profile, firmware: { dictionary: raw }, rxBufferSize, send: (b) => out.push(b) });
  const dec = new BlockDecoder();
  const flush = async () => {
    await new Promise((r) => setTimeout(r, 5));
    const blocks = out.splice(0).flatMap((b) => dec.push(b));
    return blocks;
  };
  return { mcu, dict, flush };
}

describe('the default dictionary, shaped like a real build (scripts/buildcommands.py)', () => {
  it('an LPC1768 USB build: 112 commands, 25 responses, negative ids (reset = -16, starting = -15), RESERVE_PINS_USB', () => {
    const raw = buildSimDictionary({ profile: mcuProfile('lpc1768'), link: 'usb' });
    expect(Object.keys(raw.commands ?? {})).toHaveLength(112);
    expect(Object.keys(raw.responses ?? {})).toHaveLength(25);
    expect(raw.commands!.reset).toBe(-16);
    expect(raw.commands!['identify offset=%u count=%c']).toBe(1);
    expect(raw.responses!.starting).toBe(-15);
    expect(raw.responses!['buttons_state oid=%c ack_count=%c state=%*s']).toBe(128);
    expect(raw.config).toMatchObject({ MCU: 'lpc1768', CLOCK_FREQ: 100_000_000, RESERVE_PINS_USB: 'P0.30,P0.29,P2.9' });
    expect(raw.enumerations!.static_string_id!['Shutdown cleared when not shutdown']).toBe(2);
  });

  it('an STM32F446 UART build adds src/sdiocmds.c (120 commands, 29 responses) and RESERVE_PINS_serial', () => {
    const raw = buildSimDictionary({ profile: mcuProfile('stm32f446xx'), link: 'uart' });
    expect(Object.keys(raw.commands ?? {})).toHaveLength(120);
    expect(Object.keys(raw.responses ?? {})).toHaveLength(29);
    expect(raw.commands!['sdio_set_bus oid=%c sdio_bus=%u']).toBeDefined();
    expect(raw.config).toMatchObject({ SERIAL_BAUD: 250000, RESERVE_PINS_serial: 'PA10,PA9' });
    expect(raw.config!.RESERVE_PINS_USB).toBeUndefined();
  });

  it('the host decodes negative ids: reset (-16) goes out as one VLQ byte 0x70', () => {
    const dict = new DataDictionary(buildSimDictionary({ profile: mcuProfile('lpc1768'), link: 'usb' }));
    expect(Array.from(dict.find('reset')!.encode({}))).toEqual([0x70]);
  });
});

describe('simulated MCU block handling (src/command.c)', () => {
  it('acks a good block with the next sequence number and answers its command first', async () => {
    const { mcu, dict, flush } = harness(192);
    mcu.receive(encodeBlock(0, dict.find('get_clock')!.encode({})));
    const blocks = await flush();
    expect(blocks.map((b) => [b.seq, b.content.length > 0])).toEqual([
      [1, true],
      [1, false],
    ]);
    expect(dict.decodeAll(blocks[0]!.content)[0]!.name).toBe('clock');
  });

  it('NAKs an out-of-sequence block and discards it', async () => {
    const { mcu, dict, flush } = harness(192);
    mcu.receive(encodeBlock(5, dict.find('get_clock')!.encode({})));
    const blocks = await flush();
    expect(blocks.map((b) => [b.seq, b.content.length])).toEqual([[0, 0]]);
    expect(mcu.stats.naksSent).toBe(1);
    expect(mcu.stats.commands).toBe(0);
  });

  it('NAKs garbage once, then ignores bytes until the next sync', async () => {
    const { mcu, dict, flush } = harness(192);
    mcu.receive(Uint8Array.of(0x33, 0x44, 0x55, 0x66, 0x77, 0x88, MESSAGE_SYNC));
    mcu.receive(encodeBlock(0, dict.find('get_uptime')!.encode({})));
    const blocks = await flush();
    expect(blocks.map((b) => b.content.length > 0)).toEqual([false, true, false]);
    expect(mcu.stats.naksSent).toBe(1);
  });

  it('drops bytes beyond its 192-byte receive buffer', () => {
    const { mcu } = harness(192);
    mcu.receive(new Uint8Array(300).fill(0x10)); // no sync byte: nothing gets processed
    expect(mcu.stats.rxOverflowBytes).toBe(108);
  });

  it('a shutdown mid-block leaves the block un-acked: the rest is not run, the next pass NAKs it, a retry draws a NAK too', async () => {
    const { mcu, dict, flush } = harness(192);
    const block = encodeBlock(0, [...dict.find('emergency_stop')!.encode({}), ...dict.find('get_clock')!.encode({})]);
    mcu.receive(block);
    const blocks = await flush();
    // sched_shutdown longjmps out of command_dispatch: no command_send_ack; the block stays in
    // the buffer, is now out of sequence, and command_find_block NAKs and drops it.
    const msgs = blocks.flatMap((b) => dict.decodeAll(b.content));
    expect(msgs.map((m) => m.name)).toEqual(['shutdown']);
    expect(blocks.map((b) => [b.seq, b.content.length > 0])).toEqual([
      [1, true],
      [1, false],
    ]);
    expect(mcu.stats.naksSent).toBe(1);
    expect(mcu.stats.commands).toBe(1);
    mcu.receive(block); // the host's retransmission
    const again = await flush();
    expect(again.map((b) => [b.seq, b.content.length])).toEqual([[1, 0]]);
    expect(mcu.stats.naksSent).toBe(2);
    expect(mcu.stats.commands).toBe(1);
  });

  it('shuts down on an unknown command id with "Invalid command"', async () => {
    const { mcu, dict, flush } = harness(192);
    const unknown: number[] = [];
    encodeVlq(unknown, 1000); // no build declares that many messages
    expect(Object.values(dict.raw.commands ?? {})).not.toContain(1000);
    mcu.receive(encodeBlock(0, unknown));
    const blocks = await flush();
    const msgs = blocks.flatMap((b) => dict.decodeAll(b.content));
    expect(msgs[0]).toMatchObject({ name: 'shutdown', params: { static_string_id: 'Invalid command' } });
    expect(mcu.isShutdown).toBe(true);
  });
});

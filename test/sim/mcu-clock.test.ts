import { describe, expect, it } from 'vitest';
import { BlockDecoder, encodeBlock } from '../../src/klipper/frame.js';
import { DataDictionary } from '../../src/klipper/dictionary.js';
import type { Params } from '../../src/klipper/param-types.js';
import { pinTable, type ResolvedWiring } from '../../src/sim/card-wiring.js';
import { Channel, LinkModel, byteTimeMs } from '../../src/sim/link.js';
import { SimMcu } from '../../src/sim/mcu.js';
import { mcuProfile } from '../../src/sim/mcu-profile.js';
import type { SimulatedSdCard } from '../../src/sim/sd-card/card-interface.js';
import { buildSimDictionary } from '../../src/sim/sim-dictionary.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one spi_send of 56 bytes costs at 400 kHz: 56 × 8 bits / 400 kHz = 1120 µs, plus 5 µs to dispatch it. */
const SPI_HZ = 400_000;
const SEND_BYTES = 56;
const SEND_MS = (SEND_BYTES * 8 * 1000) / SPI_HZ + 0.005; // 1.125 ms

/** A card that records the idle time the MCU lets pass and answers SPI with 0xFF. */
function recordingCard() {
  const elapsed: number[] = [];
  let spiBytes = 0;
  const card = {
    elapse: (micros: number) => elapsed.push(micros),
    setSpiClock: () => undefined,
    spiSelect: () => undefined,
    spiTransfer: (d: Uint8Array) => {
      spiBytes += d.length;
      return new Uint8Array(d.length).fill(0xff);
    },
  } as unknown as SimulatedSdCard;
  return { card, elapsed, spiBytes: () => spiBytes };
}

/**
 * A SimMcu (STM32F446, UART dictionary) with a card on spi1 CS=PA4, every transmitted block
 * captured with the `at` the MCU stamped on it.
 */
function harness(opts: { card?: SimulatedSdCard; commandMicros?: number } = {}) {
  const profile = mcuProfile('stm32f446xx');
  const raw = buildSimDictionary({ profile, link: 'uart' });
  const dict = new DataDictionary(raw);
  const pins = pinTable(profile);
  const cs = pins.get('PA4')!;
  const bus = profile.spiBuses.spi1!;
  const wiring: ResolvedWiring = { kind: 'spi', bus, cs };
  const sent: Array<{ seq: number; content: number; at: number | undefined }> = [];
  const dec = new BlockDecoder();
  const mcu = new SimMcu({
    profile,
    firmware: { dictionary: raw },
    card: opts.card,
    wiring,
    rxBufferSize: undefined, // USB: no overflow, every chunk is processed
    commandMicros: opts.commandMicros,
    statsIntervalMs: 0,
    send: (b, at) => {
      for (const blk of dec.push(b)) sent.push({ seq: blk.seq, content: blk.content.length, at });
    },
  });
  // After construction: the MCU's clock started no later than this, so every arrival below is
  // after the MCU was free.
  const created = performance.now();
  let seq = 0;
  const block = (cmds: Array<[string, Params]>): Uint8Array => {
    const content = cmds.flatMap(([name, p]) => dict.find(name)!.encode(p));
    const b = encodeBlock(seq, content);
    seq = (seq + 1) & 0x0f;
    return b;
  };
  const configBlock = () =>
    block([
      ['allocate_oids', { count: 1 }],
      ['config_spi', { oid: 0, pin: cs, cs_active_high: 0 }],
      ['spi_set_bus', { oid: 0, spi_bus: bus, mode: 0, rate: SPI_HZ }],
    ]);
  const spiSend = () => block([['spi_send', { oid: 0, data: new Uint8Array(SEND_BYTES).fill(0x5a) }]]);
  const acks = () => sent.filter((s) => s.content === 0);
  return { mcu, created, sent, acks, block, configBlock, spiSend };
}

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('SimMcu keeps its own clock (its output is stamped with it, not with when a timer woke it)', () => {
  it('blocks delivered at once with an arrival in the past are acked at arrival + the time each one spent', async () => {
    const h = harness();
    await sleep(40); // the MCU has been idle since `created`; the blocks below arrived while it was
    const arrival = h.created + 10;
    const n = 6;
    h.mcu.receive(concat([h.configBlock(), ...Array.from({ length: n }, () => h.spiSend())]), arrival);
    await sleep(20);
    const acks = h.acks();
    expect(acks).toHaveLength(n + 1);
    for (const a of acks) expect(typeof a.at).toBe('number');
    // The config block: three commands at the default 5 µs each.
    expect(acks[0]!.at!).toBeCloseTo(arrival + 0.015, 6);
    // Block k (1-based spi_send) ends after k × (1120 µs bus + 5 µs dispatch), back to back.
    for (let k = 1; k <= n; k++) expect(acks[k]!.at!).toBeCloseTo(arrival + 0.015 + k * SEND_MS, 6);
    for (let k = 1; k <= n; k++) expect(acks[k]!.at! - acks[k - 1]!.at!).toBeCloseTo(SEND_MS, 6);
    // All of it lies in the past of the host: it was not paced by Node timers.
    expect(acks[n]!.at!).toBeLessThan(performance.now());
  });

  it('a block arriving after the MCU is free starts at its arrival, not where the previous block ended', async () => {
    const h = harness();
    await sleep(40);
    const first = h.created + 5;
    h.mcu.receive(concat([h.configBlock(), h.spiSend()]), first);
    await sleep(5);
    const endOfFirst = first + 0.015 + SEND_MS;
    expect(h.acks().map((a) => a.at!)).toHaveLength(2);
    expect(h.acks()[1]!.at!).toBeCloseTo(endOfFirst, 6);
    const later = first + 20; // well after the MCU finished, still in the host's past
    h.mcu.receive(h.spiSend(), later);
    await sleep(5);
    const acks = h.acks();
    expect(acks).toHaveLength(3);
    expect(acks[2]!.at!).toBeCloseTo(later + SEND_MS, 6);
    expect(acks[2]!.at! - acks[1]!.at!).toBeGreaterThan(15);
  });

  it('a block arriving while the MCU is still busy waits for it (starts when the previous one is done)', async () => {
    const h = harness({ commandMicros: 300 });
    await sleep(40);
    const t = h.created + 5;
    // Two get_clock blocks, the second arriving 0.1 ms after the first: the first takes 0.3 ms.
    h.mcu.receive(h.block([['get_clock', {}]]), t);
    h.mcu.receive(h.block([['get_clock', {}]]), t + 0.1);
    await sleep(10);
    const acks = h.acks();
    expect(acks).toHaveLength(2);
    expect(acks[0]!.at!).toBeCloseTo(t + 0.3, 6);
    expect(acks[1]!.at!).toBeCloseTo(t + 0.6, 6);
    // The response goes out with the same stamp as the ack that follows it.
    const clockReplies = h.sent.filter((s) => s.content > 0);
    expect(clockReplies.map((s) => s.at!)).toEqual(acks.map((a) => a.at!));
  });

  it('commandMicros sets what each command costs on the MCU clock', async () => {
    const h = harness({ commandMicros: 250 });
    await sleep(30);
    const t = h.created + 2;
    h.mcu.receive(concat([h.block([['get_clock', {}], ['get_clock', {}]]), h.block([['get_uptime', {}]])]), t);
    await sleep(10);
    const acks = h.acks();
    expect(acks.map((a) => a.at! - t)).toEqual([expect.closeTo(0.5, 6), expect.closeTo(0.75, 6)]);
  });

  it('the card sees idle time on the MCU clock, and a transfer\'s own bus time is not counted again as idle', async () => {
    const rc = recordingCard();
    const h = harness({ card: rc.card });
    await sleep(40);
    const arrival = h.created + 10;
    h.mcu.receive(concat([h.configBlock(), h.spiSend(), h.spiSend(), h.spiSend()]), arrival);
    await sleep(10);
    expect(rc.spiBytes()).toBe(3 * SEND_BYTES); // the card is wired: every spi_send reached it
    expect(rc.elapsed).toHaveLength(3);
    // Before the 2nd and 3rd transfer only the 5 µs dispatch of spi_send passed, not the
    // 1120 µs of the transfer before (that clocked the card itself), nor host time.
    expect(rc.elapsed[1]!).toBeCloseTo(5, 3);
    expect(rc.elapsed[2]!).toBeCloseTo(5, 3);
    // A transfer arriving 10 ms after the MCU went idle: the card sees those 10 ms (+ 5 µs).
    const done = arrival + 0.015 + 3 * SEND_MS;
    h.mcu.receive(h.spiSend(), done + 10);
    await sleep(5);
    expect(rc.elapsed).toHaveLength(4);
    expect(rc.elapsed[3]!).toBeCloseTo(10_005, 1);
  });
});

describe('Channel starts bytes on the wire no earlier than the sender\'s `at` (src/sim/link.ts)', () => {
  const uart = { kind: 'uart' as const, baud: 250000 };

  it('a UART byte takes 10 bits at 250000 baud: 0.04 ms', () => {
    expect(byteTimeMs(uart)).toBeCloseTo(0.04, 12);
  });

  it('write(bytes, at) with `at` in the past on an idle channel delivers with at + bytes × byte time + latency', async () => {
    const got: Array<{ n: number; at: number }> = [];
    const link = new LinkModel({ ...uart, latencyMs: 0.25 }, () => undefined, (b, at) => got.push({ n: b.length, at }));
    const at = performance.now() - 50;
    link.toHost.write(new Uint8Array(100), at);
    await sleep(5);
    expect(got).toHaveLength(1);
    expect(got[0]!.n).toBe(100);
    expect(got[0]!.at).toBeCloseTo(at + 100 * 0.04 + 0.25, 9);
  });

  it('toward the MCU a write comes off the wire in pieces, each stamped with its last byte\'s arrival and the byte time', async () => {
    const got: Array<{ bytes: number[]; at: number; byteMs: number }> = [];
    const link = new LinkModel({ ...uart, latencyMs: 0.25 }, (b, at, byteMs) => got.push({ bytes: [...b], at, byteMs }), () => undefined);
    const at = performance.now() - 50;
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    link.toMcu.write(data, at);
    await sleep(5);
    // A 250000-baud MCU gets what 0.25 ms of wire carries at a time (6 bytes), in order.
    expect(got.length).toBeGreaterThanOrEqual(100 / 7);
    expect(got.flatMap((g) => g.bytes)).toEqual([...data]);
    let sent = 0;
    for (const g of got) {
      expect(g.bytes.length).toBeLessThanOrEqual(7);
      sent += g.bytes.length;
      expect(g.at).toBeCloseTo(at + sent * 0.04 + 0.25, 9);
      expect(g.byteMs).toBe(0.04);
    }
  });

  it('a block handed over in pieces within one turn of the event loop is run and acked (USB build: every piece wakes the MCU)', async () => {
    const acks: number[] = [];
    const dec = new BlockDecoder();
    const profile = mcuProfile('stm32f446xx');
    const raw = buildSimDictionary({ profile, link: 'usb' });
    const dict = new DataDictionary(raw);
    const mcu = new SimMcu({ profile, firmware: { dictionary: raw }, statsIntervalMs: 0, send: (b) => { for (const blk of dec.push(b)) if (blk.content.length === 0) acks.push(blk.seq); } });
    await sleep(5);
    const block = encodeBlock(0, dict.find('get_uptime')!.encode({}));
    const t = performance.now();
    // The first piece leaves the MCU idle again (not a whole block); the rest must still wake it.
    mcu.receive(block.subarray(0, 4), t - 0.2, 0.04);
    mcu.receive(block.subarray(4), t, 0.04);
    await sleep(20);
    expect(acks).toEqual([1]);
    mcu.halt();
  });

  it('back-to-back writes queue behind each other: the second ends at the first end + its own bytes', async () => {
    const got: Array<{ n: number; at: number }> = [];
    const ch = new Channel(0.04, 0, (b, at) => got.push({ n: b.length, at }), () => 0.5, { drop: 0, flip: 0, dup: 0 });
    const at = performance.now() - 50;
    ch.write(new Uint8Array(56), at);
    ch.write(new Uint8Array(20), at); // ready at the same time, but the wire is busy
    ch.write(new Uint8Array(10), at + 30); // the wire is idle again by then
    await sleep(5);
    expect(got.map((g) => g.n)).toEqual([56, 20, 10]);
    const firstEnd = at + 56 * 0.04;
    expect(got[0]!.at).toBeCloseTo(firstEnd, 9);
    expect(got[1]!.at).toBeCloseTo(firstEnd + 20 * 0.04, 9);
    expect(got[2]!.at).toBeCloseTo(at + 30 + 10 * 0.04, 9);
  });

  it('toward the host, what has arrived by the time it is handed over comes in one read', async () => {
    const got: Array<{ n: number; at: number }> = [];
    const link = new LinkModel({ ...uart, latencyMs: 0 }, () => undefined, (b, at) => got.push({ n: b.length, at }));
    const at = performance.now() - 50;
    link.toHost.write(new Uint8Array(56), at);
    link.toHost.write(new Uint8Array(20), at);
    link.toHost.write(new Uint8Array(10), at + 30);
    await sleep(5);
    expect(got).toHaveLength(1);
    expect(got[0]!.n).toBe(86);
    expect(got[0]!.at).toBeCloseTo(at + 30 + 10 * 0.04, 9);
  });

  it('the MCU\'s stamped output goes on the wire at its stamp: SimMcu.send → Channel.write(bytes, at)', async () => {
    const got: number[] = [];
    const link = new LinkModel({ ...uart, latencyMs: 0 }, () => undefined, (_b, at) => got.push(at));
    const profile = mcuProfile('stm32f446xx');
    const raw = buildSimDictionary({ profile, link: 'uart' });
    const dict = new DataDictionary(raw);
    const mcu = new SimMcu({ profile, firmware: { dictionary: raw }, commandMicros: 1000, statsIntervalMs: 0, send: (b, at) => link.toHost.write(b, at) });
    const created = performance.now();
    await sleep(40);
    const t = created + 5;
    mcu.receive(encodeBlock(0, dict.find('get_config')!.encode({})), t);
    await sleep(10);
    // The config response (and the 5-byte ack) leave at t + 1 ms, not when the host got round to it.
    expect(got.length).toBeGreaterThan(0);
    expect(got[0]!).toBeLessThan(t + 1 + 0.04 * 64);
    expect(got[0]!).toBeGreaterThan(t + 1);
    expect(got[got.length - 1]! - got[0]!).toBeLessThan(0.04 * 64);
  });
});

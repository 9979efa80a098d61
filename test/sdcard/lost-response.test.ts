/**
 * Answers lost on the MCU-to-host link, one at a time, chosen by a scripted fault (the link
 * model's `mcuToHost` hook): the bus must name exactly what is missing, and the SPI SD driver
 * must get back in step with the card and finish with the right data, writing no sector
 * outside the request and no sector more than the one whose acceptance it could not confirm.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/klipper/dictionary.js';
import { BlockDecoder } from '../../src/klipper/frame.js';
import { configureSdio, configureSpi } from '../../src/adapters/configure-bus.js';
import { McuSession } from '../../src/klipper/session.js';
import { KlipperSpiBus } from '../../src/adapters/klipper-spi-bus.js';
import { EmulatedSdCard } from '../../src/sim/sd-card/emulated-card.js';
import { SpiResponseLost } from '../../src/sdcard/lost-response.js';
import { SdioSdHost } from '../../src/sdcard/sdio-sd-host.js';
import { SpiSdHost } from '../../src/sdcard/spi-sd-host.js';
import { startSimulator, type SimLinkSpec } from '../../src/sim/simulator.js';
import { MemDevice, pattern } from '../sim/mem-device.js';
import { traceTo } from '../../src/progress.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A memory card that records every sector written, in order. */
class RecordingDevice extends MemDevice {
  readonly writes: number[] = [];
  override writeSync(lba: number, data: Uint8Array): void {
    for (let i = 0; i < data.length / 512; i++) this.writes.push(lba + i);
    super.writeSync(lba, data);
  }
}

interface Rig {
  session: McuSession;
  card: EmulatedSdCard;
  dev: RecordingDevice;
  /** Drop the MCU's block when this returns true for an spi_transfer_response in it. */
  dropResponse: ((response: Uint8Array) => boolean) | undefined;
  /** Called with the data of every spi_transfer the host sends (retransmissions included). */
  onTransfer: ((data: Uint8Array) => void) | undefined;
  /** Drop the MCU's block when this returns true for any message in it. */
  dropMessage: ((m: Message) => boolean) | undefined;
  /** Called with every command the host sends (retransmissions included). */
  onCommand: ((m: Message) => void) | undefined;
  dropped: number;
}

/**
 * An LPC1768 with an SDHC card on ssp1 (or an STM32F446 with it on SDIO) over a scripted
 * link; nothing is dropped until told.
 */
async function rig(link: SimLinkSpec = { kind: 'usb' }, sdio = false): Promise<Rig> {
  const dev = new RecordingDevice(16 * 2048);
  dev.writeSync(40, pattern(32 * 512, 21));
  dev.writes.length = 0;
  const card = new EmulatedSdCard({ device: dev, capacityType: 'SDHC' });
  const r: Partial<Rig> & { dropped: number } = { dev, card, dropped: 0 };
  const messages = (block: Uint8Array): Message[] => (r.session?.isIdentified ? r.session.dictionary.decodeAll(block.subarray(2, block.length - 3)) : []);
  const toMcu = new BlockDecoder();
  const sim = startSimulator({
    bootloader: false,
    mcu: sdio ? 'stm32f446xx' : 'lpc1768',
    card,
    wiring: sdio ? { kind: 'sdio', bus: 'sdio' } : { kind: 'spi', bus: 'ssp1', csPin: 'P0.6' },
    link,
    latencyMs: 0.1,
    statsIntervalMs: 0,
    faults: {
      // The MCU hands the link one block at a time.
      mcuToHost: (b) => {
        const hit = messages(b).some((m) => (m.name === 'spi_transfer_response' && r.dropResponse?.(m.params.response as Uint8Array)) || r.dropMessage?.(m));
        if (!hit) return b;
        r.dropped++;
        return new Uint8Array(0);
      },
      hostToMcu: (b) => {
        for (const block of toMcu.push(b)) {
          for (const m of messages(block.bytes)) {
            r.onCommand?.(m);
            if (m.name === 'spi_transfer') r.onTransfer?.(m.params.data as Uint8Array);
          }
        }
        return b;
      },
    },
  });
  cleanup.push(() => sim.close());
  r.session = new McuSession({ transport: sim.connect() });
  cleanup.push(() => r.session!.close());
  await r.session.connect();
  return r as Rig;
}

async function spiHost(r: Rig, trace?: string[]): Promise<{ host: SpiSdHost; bus: KlipperSpiBus }> {
  const cfg = await configureSpi(r.session, { bus: { kind: 'spi', bus: 'ssp1' }, csPin: 'P0.6', rateHz: 4_000_000 });
  const host = new SpiSdHost(cfg.bus, { busHz: 4_000_000, trace: traceTo((_ns, m) => { trace?.push(m); }) });
  await host.init();
  return { host, bus: cfg.bus };
}

/** Drop the `n`-th spi_transfer_response from now on (1-based), once. */
function dropNth(r: Rig, n: number): void {
  let seen = 0;
  r.dropResponse = () => ++seen === n;
}

/** Drop the answer to the next spi_transfer whose data starts with this command's frame, once. */
function dropAnswerToCommand(r: Rig, index: number): void {
  let armed = false;
  let done = false;
  r.onTransfer = (data) => {
    if (!done && data[0] === (0x40 | index)) armed = true;
  };
  r.dropResponse = () => {
    if (!armed || done) return false;
    done = true;
    return true;
  };
}

describe('KlipperSpiBus: a lost spi_transfer_response', () => {
  it('rejects with SpiResponseLost naming the missing bytes and keeping the rest in place', async () => {
    const r = await rig();
    // A bus with no spi_set_bus: the firmware returns the data as it came (spidev_transfer).
    await r.session.send('allocate_oids count=1');
    await r.session.send('config_spi oid=0 pin=P0.6 cs_active_high=0');
    const bus = new KlipperSpiBus(r.session, 0);
    const data = pattern(4 * bus.chunk + 10, 3);
    expect(await bus.transfer(data)).toEqual(data);
    dropNth(r, 2);
    const e = await bus.transfer(data).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(SpiResponseLost);
    const lost = e as SpiResponseLost;
    expect(lost.code).toBe('spi-response-lost');
    expect(lost.hint).toBeTruthy();
    expect(lost.lost).toEqual([{ offset: bus.chunk, length: bus.chunk }]);
    const want = data.slice();
    want.fill(0xff, bus.chunk, 2 * bus.chunk);
    expect(lost.received).toEqual(want);
    expect(bus.counters.lostResponses).toBe(1);
    // The next transfer is unaffected: answers are matched by block, not by arrival order.
    r.dropResponse = undefined;
    expect(await bus.transfer(data)).toEqual(data);
  });
});

describe('SPI SD driver: recovery from one lost answer', () => {
  for (const link of [{ kind: 'usb' }, { kind: 'uart', baud: 250000 }] as const) {
    it(`in the middle of a multi-block read: keeps the blocks before the hole, restarts at the first incomplete one (${link.kind})`, async () => {
      const r = await rig(link);
      const trace: string[] = [];
      const { host, bus } = await spiHost(r, trace);
      // 16 blocks of ~530 clocked bytes: answer 40 is in the fourth block's data.
      dropNth(r, 40);
      const got = await host.readBlocks(40, 16);
      expect(Buffer.from(got).equals(Buffer.from(pattern(16 * 512, 21)))).toBe(true);
      expect(r.dropped).toBe(1);
      expect(bus.counters.lostResponses).toBe(1);
      const restarts = trace.filter((l) => /answer lost/.test(l));
      expect(restarts).toHaveLength(1);
      expect(restarts[0]).toMatch(/^reading sector 4[3-4]: /);
      expect(r.dev.writes).toEqual([]);
    }, 30000);
  }

  it("of a write's data response: stops, checks CMD13, rewrites from the unconfirmed block only", async () => {
    const r = await rig();
    const trace: string[] = [];
    const { host } = await spiHost(r, trace);
    const base = r.card.stats.blocksWritten;
    // The card writes a block when its CRC arrives; the next answer is that block's data response.
    r.dropResponse = () => r.dropped === 0 && r.card.stats.blocksWritten === base + 3;
    const data = pattern(8 * 512, 22);
    await host.writeBlocks(200, data);
    expect(r.dropped).toBe(1);
    expect(Buffer.from(r.dev.readSync(200, 8)).equals(Buffer.from(data))).toBe(true);
    // Sectors 200-207 once each, and 202 (whose acceptance was lost) a second time.
    expect(r.dev.writes).toEqual([200, 201, 202, 202, 203, 204, 205, 206, 207]);
    expect(trace.filter((l) => /answer lost/.test(l))).toEqual([expect.stringMatching(/^the data response for sector 202: /)]);
  }, 30000);

  it("of a command's R1 (CMD25): ends the write the card may be waiting in, then repeats the command", async () => {
    const r = await rig();
    const trace: string[] = [];
    const { host } = await spiHost(r, trace);
    dropAnswerToCommand(r, 25);
    const data = pattern(4 * 512, 23);
    await host.writeBlocks(300, data);
    expect(r.dropped).toBe(1);
    expect(Buffer.from(r.dev.readSync(300, 4)).equals(Buffer.from(data))).toBe(true);
    expect(r.dev.writes).toEqual([300, 301, 302, 303]);
    expect(trace.filter((l) => /answer lost/.test(l))).toEqual([expect.stringMatching(/^CMD25 \(WRITE_MULTIPLE_BLOCK\) at sector 300: /)]);
  }, 30000);

  for (const [index, count] of [
    [18, 8],
    [17, 1],
  ] as const) {
    it(`of a command's R1 (CMD${index}): stops the card, resynchronises and reads again`, async () => {
      const r = await rig();
      const trace: string[] = [];
      const { host } = await spiHost(r, trace);
      dropAnswerToCommand(r, index);
      const got = await host.readBlocks(41, count);
      expect(r.dropped).toBe(1);
      expect(Buffer.from(got).equals(Buffer.from(pattern(32 * 512, 21).subarray(512, (1 + count) * 512)))).toBe(true);
      expect(trace.filter((l) => /answer lost/.test(l))).toEqual([expect.stringMatching(new RegExp(`^CMD${index} .* at sector 41: `))]);
      expect(r.dev.writes).toEqual([]);
    }, 30000);
  }

  it('of CMD13 after a write: asks again', async () => {
    const r = await rig();
    const trace: string[] = [];
    const { host } = await spiHost(r, trace);
    dropAnswerToCommand(r, 13);
    const data = pattern(2 * 512, 24);
    await host.writeBlocks(500, data);
    expect(r.dropped).toBe(1);
    expect(r.dev.writes).toEqual([500, 501]);
    expect(trace.filter((l) => /answer lost/.test(l))).toEqual([expect.stringMatching(/^CMD13 /)]);
  }, 30000);

  it('during initialisation (CMD8, CMD58, CSD): each step is asked again', async () => {
    const r = await rig();
    const trace: string[] = [];
    const cfg = await configureSpi(r.session, { bus: { kind: 'spi', bus: 'ssp1' }, csPin: 'P0.6', rateHz: 4_000_000 });
    for (const index of [8, 58, 9]) {
      dropAnswerToCommand(r, index);
      const info = await new SpiSdHost(cfg.bus, { busHz: 4_000_000, trace: traceTo((_ns, m) => { trace.push(m); }) }).init();
      expect(info.highCapacity).toBe(true);
      expect(info.csd.crcOk).toBe(true);
    }
    expect(r.dropped).toBe(3);
    expect(trace.filter((l) => /answer lost/.test(l)).map((l) => l.split(' ')[0])).toEqual(['CMD8', 'CMD58', 'CMD9']);
  }, 30000);
});

describe('SPI SD driver: a link that loses every answer', () => {
  it('fails reads and writes promptly with a typed, hinted error, and writes nothing', async () => {
    const r = await rig();
    const { host } = await spiHost(r);
    r.dropResponse = () => true;
    let t0 = performance.now();
    await expect(host.readBlocks(40, 8)).rejects.toMatchObject({ code: 'link-lossy', hint: expect.stringMatching(/cable/) });
    expect(performance.now() - t0).toBeLessThan(5000);
    t0 = performance.now();
    await expect(host.writeBlocks(200, pattern(4 * 512, 1))).rejects.toMatchObject({ code: 'link-lossy' });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.dev.writes).toEqual([]);
    // The link heals: the same host carries on.
    r.dropResponse = undefined;
    const data = pattern(4 * 512, 2);
    await host.writeBlocks(200, data);
    expect(Buffer.from(await host.readBlocks(200, 4)).equals(Buffer.from(data))).toBe(true);
  }, 30000);
});

describe('SDIO SD driver: answers lost on the link', () => {
  async function sdioHost(r: Rig, trace: string[]): Promise<SdioSdHost> {
    const cfg = await configureSdio(r.session, { bus: 'sdio' });
    const host = new SdioSdHost(cfg.bus, { trace: traceTo((_ns, m) => { trace.push(m); }) });
    await host.init();
    return host;
  }

  /** Drop the answer to the next `name` command (with `cmd`, when given) the host sends, once. */
  function dropAnswerTo(r: Rig, name: string, cmd?: number): void {
    let armed = false;
    let done = false;
    r.onCommand = (m) => {
      if (!done && m.name === name && (cmd === undefined || m.params.cmd === cmd)) armed = true;
    };
    r.dropMessage = (m) => {
      if (!armed || done || m.name !== `${name}_response`) return false;
      done = true;
      return true;
    };
  }

  for (const cmd of [41, 2, 7]) {
    it(`during identification (CMD${cmd}): starts over from CMD0 rather than repeat a step the card cannot take twice`, async () => {
      const r = await rig({ kind: 'usb' }, true);
      const trace: string[] = [];
      dropAnswerTo(r, 'sdio_send_command', cmd);
      const host = await sdioHost(r, trace);
      expect(r.dropped).toBe(1);
      expect(host.info?.highCapacity).toBe(true);
      expect(trace.filter((l) => /was lost/.test(l))).toEqual([expect.stringMatching(new RegExp(`^identifying the card: the answer to CMD${cmd} `))]);
      expect(Buffer.from(await host.readBlocks(40, 2)).equals(Buffer.from(pattern(2 * 512, 21)))).toBe(true);
    }, 30000);
  }

  it('of sdio_write_data: waits for the card, writes that block again, nothing else', async () => {
    const r = await rig({ kind: 'usb' }, true);
    const trace: string[] = [];
    const host = await sdioHost(r, trace);
    let n = 0;
    r.onCommand = (m) => {
      if (m.name === 'sdio_write_data') n++;
    };
    r.dropMessage = (m) => m.name === 'sdio_write_data_response' && n === 2 && r.dropped === 0;
    const data = pattern(3 * 512, 25);
    await host.writeBlocks(10, data);
    expect(r.dropped).toBe(1);
    expect(Buffer.from(r.dev.readSync(10, 3)).equals(Buffer.from(data))).toBe(true);
    expect(r.dev.writes).toEqual([10, 11, 11, 12]);
  }, 30000);

  it('of sdio_read_data and of a buffer chunk: the data stays exact', async () => {
    const r = await rig({ kind: 'usb' }, true);
    const trace: string[] = [];
    const host = await sdioHost(r, trace);
    dropAnswerTo(r, 'sdio_read_data');
    expect(Buffer.from(await host.readBlocks(40, 4)).equals(Buffer.from(pattern(4 * 512, 21)))).toBe(true);
    expect(r.dropped).toBe(1);
    let k = 0;
    r.onCommand = undefined;
    r.dropMessage = (m) => m.name === 'sdio_read_data_buffer_response' && ++k === 5;
    expect(Buffer.from(await host.readBlocks(44, 4)).equals(Buffer.from(pattern(8 * 512, 21).subarray(4 * 512)))).toBe(true);
    expect(r.dropped).toBe(2);
    expect(r.dev.writes).toEqual([]);
  }, 30000);

  it('a link that loses every answer fails with a typed, hinted error and writes nothing', async () => {
    const r = await rig({ kind: 'usb' }, true);
    const host = await sdioHost(r, []);
    r.dropMessage = (m) => m.name.startsWith('sdio_');
    const t0 = performance.now();
    await expect(host.writeBlocks(10, pattern(2 * 512, 1))).rejects.toMatchObject({ code: 'link-lossy', hint: expect.stringMatching(/cable/) });
    await expect(host.readBlocks(40, 2)).rejects.toMatchObject({ code: 'link-lossy' });
    expect(performance.now() - t0).toBeLessThan(10000);
  }, 30000);
});

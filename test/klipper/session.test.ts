import { afterEach, describe, expect, it } from 'vitest';
import { McuSession } from '../../src/klipper/session.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.js';

const sims: Simulator[] = [];
const sessions: McuSession[] = [];

function sim(o: SimulatorOptions): Simulator {
  const s = startSimulator({ bootloader: false, ...o });
  sims.push(s);
  return s;
}

async function connect(s: Simulator, extra: Partial<ConstructorParameters<typeof McuSession>[0]> = {}): Promise<McuSession> {
  const session = new McuSession({ transport: s.connect(), ...extra });
  sessions.push(session);
  await session.connect();
  return session;
}

afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  for (const s of sims.splice(0)) s.close();
});

describe('McuSession against the simulated MCU', () => {
  it('identifies an STM32 over a 250000 baud UART', async () => {
    const s = sim({ mcu: 'stm32f446xx', link: { kind: 'uart', baud: 250000 } });
    const session = await connect(s);
    const d = session.dictionary;
    expect(d.constant('MCU')).toBe('stm32f446xx');
    expect(d.constantNumber('CLOCK_FREQ')).toBe(180_000_000);
    expect(d.constantNumber('RECEIVE_WINDOW')).toBe(192);
    expect(d.enumeration('pin')!.get('PC12')).toBe(44);
    expect(d.enumeration('spi_bus')!.get('spi3a')).toBe(5);
    const cfg = await session.getConfig();
    expect(cfg).toEqual({ isConfig: false, crc: 0, isShutdown: false, moveCount: 0 });
  });

  it('identifies an LPC1768 over USB with its P0.0-style pins', async () => {
    const s = sim({ mcu: 'lpc1768', link: { kind: 'usb' } });
    const session = await connect(s);
    expect(session.dictionary.constant('MCU')).toBe('lpc1768');
    expect(session.dictionary.enumeration('pin')!.get('P1.31')).toBe(63);
    expect(session.dictionary.constant('RECEIVE_WINDOW')).toBeUndefined();
  });

  it('configures, reports the config CRC and shuts down with the static-string reason', async () => {
    const s = sim({ mcu: 'stm32f103xe' });
    const session = await connect(s);
    await session.send('allocate_oids count=1');
    await session.send('config_spi', { oid: 0, pin: 'PA4', cs_active_high: 0 });
    await session.send('finalize_config crc=1234');
    expect(await session.getConfig()).toMatchObject({ isConfig: true, crc: 1234, isShutdown: false });
    // A second bus setup on the same oid is "Invalid spi config" in spicmds.c
    await session.send('spi_set_bus', { oid: 0, spi_bus: 'spi1', mode: 0, rate: 400000 });
    await session.send('spi_set_bus', { oid: 0, spi_bus: 'spi1', mode: 0, rate: 400000 });
    const cfg = await session.getConfig();
    expect(cfg.isShutdown).toBe(true);
    expect(session.lastShutdown?.reason).toBe('Invalid spi config');
    // Commands that may not run while shut down are answered with is_shutdown
    await session.send('allocate_oids count=1');
    await new Promise((r) => setTimeout(r, 20));
    expect(session.lastShutdown?.kind).toBe('is_shutdown');
  });

  it('rejects an unknown pin before sending, and the MCU rejects an invalid bus number', async () => {
    const s = sim({ mcu: 'lpc1768' });
    const session = await connect(s);
    expect(() => session.encode('config_spi', { oid: 0, pin: 'PA4', cs_active_high: 0 })).toThrow(/PA4/);
    await session.send('allocate_oids count=1');
    await session.send('config_spi', { oid: 0, pin: 'P0.6', cs_active_high: 0 });
    await session.send('spi_set_bus', { oid: 0, spi_bus: 7, mode: 0, rate: 400000 });
    expect((await session.getConfig()).isShutdown).toBe(true);
    expect(session.lastShutdown?.reason).toBe('Invalid spi_setup parameters');
  });

  it('retransmits through a lossy, corrupting link and still gets every answer right', async () => {
    const s = sim({ mcu: 'stm32f446xx', faults: { dropRate: 0.004, flipRate: 0.002, seed: 7 } });
    const session = await connect(s, { timeoutMs: 10000 });
    for (let i = 0; i < 40; i++) {
      const p = await session.sendWithResponse('identify', 'identify_response', { params: { offset: i, count: 40 } });
      expect(p.offset).toBe(i);
      expect((p.data as Uint8Array).length).toBe(40);
    }
    const st = session.stats!;
    expect(st.retransmits).toBeGreaterThan(0);
    expect(s.channels.toMcu.stats.dropped + s.channels.toMcu.stats.flipped).toBeGreaterThan(0);
  });

  it('keeps unacknowledged bytes within RECEIVE_WINDOW so a slow UART MCU never overflows', async () => {
    const s = sim({ mcu: 'stm32f103xe', link: { kind: 'uart', baud: 250000 }, commandMicros: 10000 });
    const session = await connect(s);
    await session.send('allocate_oids count=1');
    await session.send('config_spi', { oid: 0, pin: 'PA4', cs_active_high: 0 });
    await session.send('spi_set_bus', { oid: 0, spi_bus: 'spi1', mode: 0, rate: 4000000 });
    await session.send('finalize_config crc=0');
    const data = new Uint8Array(50).fill(0xff);
    const sends = [];
    for (let i = 0; i < 30; i++) sends.push(session.send('spi_send', { oid: 0, data }));
    await Promise.all(sends);
    expect(s.mcu.stats.rxOverflowBytes).toBe(0);
    expect(s.mcu.stats.commands).toBeGreaterThanOrEqual(34);
  });

  it('overflows the MCU buffer when the window is ignored (the test can fail)', async () => {
    const s = sim({ mcu: 'stm32f103xe', link: { kind: 'uart', baud: 250000 }, commandMicros: 10000 });
    const session = await connect(s);
    await session.send('allocate_oids count=1');
    await session.send('config_spi', { oid: 0, pin: 'PA4', cs_active_high: 0 });
    await session.send('spi_set_bus', { oid: 0, spi_bus: 'spi1', mode: 0, rate: 4000000 });
    // Pretend the firmware declared a huge window.
    (session as unknown as { queue: { receiveWindow: number } }).queue.receiveWindow = 100000;
    const data = new Uint8Array(50).fill(0xff);
    const sends = [];
    for (let i = 0; i < 30; i++) sends.push(session.send('spi_send', { oid: 0, data }).catch(() => undefined));
    // Each overflow costs a retransmit of everything in flight, which overflows again: no
    // need to wait for the storm to end.
    await new Promise((r) => setTimeout(r, 400));
    expect(s.mcu.stats.rxOverflowBytes).toBeGreaterThan(0);
  });

  it("resynchronises when the MCU's sequence number is not what a fresh host expects", async () => {
    const s = sim({ mcu: 'stm32f446xx' });
    const a = await connect(s);
    for (let i = 0; i < 5; i++) await a.send('get_clock');
    await a.close();
    const b = await connect(s);
    expect((await b.getConfig()).isShutdown).toBe(false);
  });

  it('estimates the MCU clock and frequency', async () => {
    const s = sim({ mcu: 'lpc1768', link: { kind: 'usb' } });
    const session = await connect(s);
    // 8 samples 50 ms apart: a few ms of scheduling delay on a loaded machine stays well
    // inside the 5% bound over a 400 ms window (6 × 20 ms once failed under load).
    const est = await session.syncClock(8, 50);
    expect(Math.abs(est.estimatedFreq - 100e6) / 100e6).toBeLessThan(0.05);
  });
});

describe('shutdown reason of an MCU found already shut down', () => {
  it('asks for it with a command the firmware refuses while shut down', async () => {
    const s = sim({ mcu: 'stm32f446xx' });
    const first = await connect(s);
    await first.send('emergency_stop');
    await first.close();
    const second = await connect(s);
    expect(second.lastShutdown).toBeUndefined();
    expect(await second.shutdownReason()).toBe('Command request');
    expect((await second.getConfig()).isConfig).toBe(false);
  });

  it('returns undefined for a running MCU', async () => {
    const s = sim({ mcu: 'lpc1768' });
    const session = await connect(s);
    expect(await session.shutdownReason()).toBeUndefined();
  });
});

describe('unsolicited traffic', () => {
  it('keeps queries matched while the MCU sends stats reports between them', async () => {
    const s = sim({ mcu: 'stm32f446xx', statsIntervalMs: 3 });
    const session = await connect(s);
    for (let i = 0; i < 30; i++) {
      const p = await session.sendWithResponse('identify', 'identify_response', { params: { offset: i, count: 8 } });
      expect(p.offset).toBe(i);
    }
    expect(session.unsolicited.some((m) => m.name === 'stats')).toBe(true);
  });
});

describe('receive window from the dictionary', () => {
  it('uses RECEIVE_WINDOW when declared, 192 for a UART build without it, none for a USB build', async () => {
    const { mcuProfile } = await import('../../src/sim/mcu-profile.js');
    const { buildSimDictionary } = await import('../../src/sim/sim-dictionary.js');
    const profile = mcuProfile('lpc1768');
    const uart = buildSimDictionary({ profile, link: 'uart', receiveWindow: 256 });
    const a = await connect(sim({ mcu: 'lpc1768', firmware: { dictionary: uart } }));
    expect(a.receiveWindow).toBe(256);
    const noWindow = buildSimDictionary({ profile, link: 'uart' });
    delete noWindow.config!.RECEIVE_WINDOW;
    const b = await connect(sim({ mcu: 'lpc1768', firmware: { dictionary: noWindow } }));
    expect(b.receiveWindow).toBe(192);
    // A USB build (no SERIAL_BAUD, no RECEIVE_WINDOW), even when the simulation paces it
    // like a UART: USB flow control means no byte bound, and the MCU loses nothing.
    const usb = buildSimDictionary({ profile, link: 'usb' });
    const s = sim({ mcu: 'lpc1768', firmware: { dictionary: usb }, link: { kind: 'uart', baud: 250000 } });
    const c = await connect(s);
    expect(c.receiveWindow).toBe(0);
    const sends = [];
    for (let i = 0; i < 30; i++) sends.push(c.send('get_clock'));
    await Promise.all(sends);
    expect(s.mcu.stats.rxOverflowBytes).toBe(0);
  });

  it('sendEach returns once every answer is in, without waiting for the acks that follow them', async () => {
    let dropAcks = false;
    // From the switch on, every empty block (ack or NAK) from the MCU is lost on the way.
    const s = sim({ mcu: 'stm32f446xx', link: { kind: 'uart', baud: 250000 }, faults: { mcuToHost: (b) => (dropAcks && b.length === 5 ? new Uint8Array(0) : b) } });
    const session = await connect(s);
    await session.send('allocate_oids count=1');
    await session.send('config_spi', { oid: 0, pin: 'PA4', cs_active_high: 0 });
    await session.send('spi_set_bus', { oid: 0, spi_bus: 'spi1', mode: 0, rate: 4000000 });
    await session.send('finalize_config crc=1');
    dropAcks = true;
    const xfer = session.resolve('spiTransfer').format;
    const data = [Uint8Array.of(0xff, 0xff, 0xff), Uint8Array.of(0xff, 0xff)];
    const answers = await Promise.race([
      session.sendEach(data.map((d) => xfer.encode({ oid: 0, data: d })), 'spi_transfer_response', 0),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 1000)),
    ]);
    expect(answers).not.toBe('timeout');
    // No card on the bus: MISO floats high, so every byte clocked comes back as 0xFF.
    expect((answers as Array<{ response: Uint8Array }>).map((a) => [...a.response])).toEqual(data.map((d) => [...d]));
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McuSession } from '../../src/klipper/session.js';
import { SerialTransport } from '../../src/transport/serial-port.js';
import { startSimulator, type Simulator } from '../../src/sim/simulator.js';

/**
 * Read-only checks that hold for any Klipper MCU. They run against the simulator, or against
 * a real board when FWCARD_TEST_PORT names its serial device (FWCARD_TEST_BAUD for a UART):
 *   FWCARD_TEST_PORT=/dev/serial/by-id/usb-Klipper_… npx vitest run test/klipper/mcu-suite.test.ts
 * Nothing here configures or resets the MCU.
 */
const port = process.env.FWCARD_TEST_PORT;
let sim: Simulator | undefined;
let session: McuSession;

beforeAll(async () => {
  if (port) {
    session = new McuSession({ transport: new SerialTransport({ path: port, baudRate: Number(process.env.FWCARD_TEST_BAUD ?? 250000) }) });
  } else {
    sim = startSimulator({ board: 'btt-octopus-f446-v1', link: { kind: 'uart', baud: 250000 }, bootloader: false });
    session = new McuSession({ transport: sim.connect() });
  }
  await session.connect();
}, 30000);

afterAll(async () => {
  await session?.close();
  sim?.close();
});

describe(`any Klipper MCU (${port ?? 'simulated Octopus'})`, () => {
  it('identifies as Klipper with an MCU name and a clock', () => {
    const d = session.dictionary;
    expect(d.app === '' || d.app === 'Klipper').toBe(true);
    expect(typeof d.constant('MCU')).toBe('string');
    expect(d.constantNumber('CLOCK_FREQ')).toBeGreaterThan(1_000_000);
    expect(d.version.length).toBeGreaterThan(0);
  });

  it('declares every command the SD flash flow needs, in a shape we support', () => {
    for (const k of ['getConfig', 'config', 'allocateOids', 'finalizeConfig', 'reset', 'configSpi', 'spiSend', 'spiTransfer', 'spiTransferResponse'] as const) {
      expect(() => session.resolve(k), k).not.toThrow();
    }
    expect(session.dictionary.enumeration('pin')?.size).toBeGreaterThan(16);
  });

  it('answers get_config and keeps a clock that advances at about CLOCK_FREQ', async () => {
    const cfg = await session.getConfig();
    expect(typeof cfg.isConfig).toBe('boolean');
    const est = await session.syncClock(5, 30);
    const f = session.dictionary.constantNumber('CLOCK_FREQ')!;
    expect(Math.abs(est.estimatedFreq - f) / f).toBeLessThan(0.05);
  });

  it('answers queries of different kinds in flight together, and queued ones in order', async () => {
    const [clock, config, uptime] = await Promise.all([
      session.sendWithResponse('get_clock', 'clock'),
      session.getConfig(),
      session.sendWithResponse('get_uptime', 'uptime'),
    ]);
    expect(typeof clock.clock).toBe('number');
    expect(typeof config.crc).toBe('number');
    expect(typeof uptime.high).toBe('number');
    const offsets = [0, 7, 13, 21, 34, 55, 89];
    const answers = await Promise.all(offsets.map((offset) => session.sendWithResponse('identify', 'identify_response', { params: { offset, count: 16 } })));
    expect(answers.map((a) => a.offset)).toEqual(offsets);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { mcuInfo } from '../../src/flows/mcu-info.js';
import { McuSession } from '../../src/klipper/session.js';
import { createMemoryPair } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';
import { startSimulator, type Simulator } from '../../src/sim/simulator.js';
import { traceTo } from '../../src/progress.js';

const sims: Simulator[] = [];
afterEach(() => {
  for (const s of sims.splice(0)) s.close();
});

function sim(mcu: string): Simulator {
  const s = startSimulator({ mcu, link: { kind: 'uart', baud: 250000 }, bootloader: false });
  sims.push(s);
  return s;
}

/** The simulator's host end, remembering whether the flow closed it. */
function watched(s: Simulator): { transport: () => Transport; closed: () => boolean } {
  let t: Transport | undefined;
  return { transport: () => (t = s.connect()), closed: () => !!t && !t.isOpen };
}

describe('mcuInfo (the mcu-info flow) against the simulated MCU', () => {
  it('identifies the MCU, reads its state and closes the session', async () => {
    const s = sim('stm32f446xx');
    const w = watched(s);
    const lines: string[] = [];
    const info = await mcuInfo({ device: '/dev/sim', baud: 250000, timeoutMs: 3000, transport: w.transport, trace: traceTo((ns, m) => lines.push(`${ns}: ${m}`)) });
    expect(info).toMatchObject({ ok: true, device: '/dev/sim', mcu: 'stm32f446xx', clockFreq: 180_000_000, isConfig: false, isShutdown: false, configCrc: 0, moveCount: 0, shutdownReason: null, serialBaud: 250000, receiveWindow: 192 });
    expect(info.version).toMatch(/^v0\./);
    expect(info.commands).toBeGreaterThan(10);
    expect(Object.keys(info)).toEqual(['ok', 'device', 'app', 'version', 'buildVersions', 'mcu', 'clockFreq', 'isConfig', 'isShutdown', 'configCrc', 'moveCount', 'shutdownReason', 'serialBaud', 'receiveWindow', 'constants', 'commands', 'responses']);
    expect(lines.length).toBeGreaterThan(0);
    expect(w.closed()).toBe(true);
  });

  it('asks a shut-down MCU why it stopped', async () => {
    const s = sim('stm32f103xe');
    const setup = new McuSession({ transport: s.connect('setup') });
    await setup.connect();
    await setup.send('allocate_oids count=1');
    await setup.send('config_spi', { oid: 0, pin: 'PA4', cs_active_high: 0 });
    await setup.send('spi_set_bus', { oid: 0, spi_bus: 'spi1', mode: 4, rate: 400000 }); // mode 4: "Invalid spi config"
    await setup.close();
    const info = await mcuInfo({ device: '/dev/sim', baud: 250000, timeoutMs: 3000, transport: () => s.connect() });
    expect(info).toMatchObject({ isShutdown: true, shutdownReason: 'Invalid spi config' });
  });

  it('closes the session when nothing answers, with the typed error of a silent device', async () => {
    const [host] = createMemoryPair(); // the other end never answers
    await expect(mcuInfo({ device: '/dev/silent', baud: 250000, timeoutMs: 200, transport: () => host })).rejects.toMatchObject({ code: expect.any(String) });
    expect(host.isOpen).toBe(false);
  });
});

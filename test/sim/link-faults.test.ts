import { afterEach, describe, expect, it } from 'vitest';
import { McuSession } from '../../src/klipper/session.js';
import { byteTimeMs, prng } from '../../src/sim/link.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(o: SimulatorOptions, timeoutMs = 5000): Promise<{ s: Simulator; session: McuSession }> {
  const s = startSimulator({ bootloader: false, mcu: 'stm32f446xx', ...o });
  cleanup.push(() => s.close());
  const session = new McuSession({ transport: s.connect(), timeoutMs });
  cleanup.push(() => session.close());
  await session.connect();
  return { s, session };
}

describe('link model', () => {
  it('charges 10 bits per byte on a UART', async () => {
    expect(byteTimeMs({ kind: 'uart', baud: 250000 })).toBeCloseTo(0.04);
    const { s, session } = await setup({ link: { kind: 'uart', baud: 19200 } });
    const t0 = performance.now();
    await session.sendWithResponse('identify', 'identify_response', { params: { offset: 0, count: 40 } });
    expect(performance.now() - t0).toBeGreaterThan(28); // ~61 bytes at 0.52 ms each
    expect(s.channels.toHost.stats.bytes).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', () => {
    const a = prng(42);
    const b = prng(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('survives duplicated bytes in both directions', async () => {
    // 0.3 % per byte: with a real build's dictionary (about 140 identify chunks) a rate of 1 %
    // loses some chunk's answer six times in a row, and the host gives up as Klipper's does
    // (serialhdl.py SerialRetryCommand: 5 retries).
    const { s, session } = await setup({ faults: { duplicateRate: 0.003, seed: 3 } }, 10000);
    for (let i = 0; i < 20; i++) {
      const p = await session.sendWithResponse('identify', 'identify_response', { params: { offset: i * 10, count: 30 } });
      expect(p.offset).toBe(i * 10);
    }
    expect(s.channels.toMcu.stats.duplicated + s.channels.toHost.stats.duplicated).toBeGreaterThan(0);
  });

  it('rides out a stall shorter than the timeout', async () => {
    const { s, session } = await setup({ link: { kind: 'usb' } });
    s.stall(300);
    const t0 = performance.now();
    const p = await session.sendWithResponse('get_clock', 'clock');
    expect(performance.now() - t0).toBeGreaterThan(250);
    expect(typeof p.clock).toBe('number');
  });

  it('fails pending commands with a typed error when the board disconnects', async () => {
    const { s, session } = await setup({ link: { kind: 'usb' } });
    s.stall(1000);
    const pending = session.sendWithResponse('get_clock', 'clock');
    s.disconnect();
    await expect(pending).rejects.toMatchObject({ code: 'disconnected' });
  });

  it('reports a stalled MCU as no-response after the timeout', async () => {
    const { s, session } = await setup({ link: { kind: 'usb' } }, 400);
    s.stall(5000);
    await expect(session.sendWithResponse('get_clock', 'clock')).rejects.toMatchObject({ code: 'no-response' });
  });

  it('scripted faults: a host-to-MCU hook that corrupts the first data block forces a NAK or timeout retransmit', async () => {
    let armed = false;
    let hits = 0;
    const { s, session } = await setup({
      faults: {
        hostToMcu: (b) => {
          if (armed && b.length > 5 && hits === 0) {
            hits++;
            const c = b.slice();
            c[c.length - 2] ^= 0xff;
            return c;
          }
          return b;
        },
      },
    });
    armed = true;
    await session.sendWithResponse('get_clock', 'clock');
    expect(hits).toBe(1);
    expect(session.stats!.retransmits).toBeGreaterThan(0);
    expect(s.mcu.stats.naksSent).toBeGreaterThan(0);
  });
});

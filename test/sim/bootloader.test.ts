import { afterEach, describe, expect, it } from 'vitest';
import { FatVolume } from '../../src/fat/fat-volume.js';
import { writeFatVolume } from '../../src/fat/format.js';
import { planLayout } from '../../src/fat/layout.js';
import { makeSyntheticFirmware } from '../../src/firmware/synth.js';
import { configureSpi } from '../../src/adapters/configure-bus.js';
import { McuSession } from '../../src/klipper/session.js';
import { EmulatedSdCard } from '../../src/sim/sd-card/emulated-card.js';
import { SpiSdHost } from '../../src/sdcard/spi-sd-host.js';
import { fatVolumeDevice } from '../../src/sim/bootloader.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.js';
import { MemDevice } from './mem-device.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function cardWith(files: Record<string, Uint8Array>): Promise<{ dev: MemDevice; card: EmulatedSdCard }> {
  const dev = new MemDevice(64 * 2048);
  writeFatVolume(dev, planLayout({ deviceSectors: dev.sectorCount }), { knownZero: true });
  const vol = await FatVolume.mount(fatVolumeDevice(dev));
  for (const [name, data] of Object.entries(files)) vol.writeFile('/' + name, data);
  vol.unmount();
  return { dev, card: new EmulatedSdCard({ device: dev }) };
}

async function names(dev: MemDevice): Promise<string[]> {
  const vol = await FatVolume.mount(fatVolumeDevice(dev));
  try {
    return vol.list('/').map((e) => e.name.toUpperCase()).sort();
  } finally {
    vol.unmount();
  }
}

function sim(o: SimulatorOptions): Simulator {
  const s = startSimulator({ bootMs: 150, ...o });
  cleanup.push(() => s.close());
  return s;
}

async function connect(s: Simulator, timeoutMs = 3000): Promise<McuSession> {
  const session = new McuSession({ transport: s.connect(), connectTimeoutMs: timeoutMs, timeoutMs });
  cleanup.push(() => session.close());
  await session.connect();
  return session;
}

describe('simulated bootloader', () => {
  it('USB LPC1768 board: reset drops off the bus, flashes firmware.bin, renames it FIRMWARE.CUR, comes back with the new dictionary', async () => {
    const fw = makeSyntheticFirmware({ mcu: 'lpc1768', klipperVersion: 'v0.13.0-42-gnewbuild' });
    const { dev, card } = await cardWith({ 'firmware.bin': fw.bytes });
    const s = sim({ board: 'btt-skr-v1.3', card, link: { kind: 'usb' } });
    const before = await connect(s);
    expect(before.dictionary.version).not.toBe('v0.13.0-42-gnewbuild');
    const closed = new Promise<Error | undefined>((r) => before.transport.onClose(r));
    const boot = s.nextBoot();
    await before.reset();
    await closed;
    // While it re-enumerates the device node is gone.
    await expect(s.connect().open()).rejects.toMatchObject({ code: 'no-such-device' });
    const ev = await boot;
    expect(ev.outcome).toMatchObject({ kind: 'flashed', file: 'firmware.bin', renamedTo: 'FIRMWARE.CUR' });
    const after = await connect(s);
    expect(after.dictionary.version).toBe('v0.13.0-42-gnewbuild');
    expect(after.dictionary.constant('MCU')).toBe('lpc1768');
    expect(await names(dev)).toEqual(['FIRMWARE.CUR']);
  });

  it('SDIO-bootloader board (Octopus): a card left in SPI mode is not read until a power cycle', async () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f446xx', flashStart: 0x08008000, klipperVersion: 'v0.13.0-7-goctonew' });
    const { dev, card } = await cardWith({ 'firmware.bin': fw.bytes });
    const s = sim({ board: 'btt-octopus-f446-v1', card, link: { kind: 'uart', baud: 250000 } });
    const session = await connect(s);
    const cfg = await configureSpi(session, { bus: { kind: 'swspi', miso: 'PC8', mosi: 'PD2', sclk: 'PC12' }, csPin: 'PC11' });
    await new SpiSdHost(cfg.bus).init();
    expect(card.mode).toBe('spi');
    const boot = s.nextBoot();
    await session.reset();
    const ev = await boot;
    expect(ev.outcome.kind).toBe('skipped');
    expect(await names(dev)).toEqual(['FIRMWARE.BIN']);
    const again = await connect(s);
    expect(again.dictionary.version).not.toBe('v0.13.0-7-goctonew');
    await again.close();
    const cycled = await s.powerCycle();
    expect(cycled.outcome).toMatchObject({ kind: 'flashed', renamedTo: 'FIRMWARE.CUR' });
    const after = await connect(s);
    expect(after.dictionary.version).toBe('v0.13.0-7-goctonew');
  });

  it('a UART board is silent while its bootloader runs, then answers with fresh state', async () => {
    const s = sim({ mcu: 'stm32f103xe', link: { kind: 'uart', baud: 250000 }, bootloader: false, bootMs: 600 });
    const session = await connect(s);
    await session.send('allocate_oids count=1');
    await session.send('finalize_config crc=5');
    expect((await session.getConfig()).isConfig).toBe(true);
    await session.reset();
    const during = new McuSession({ transport: s.connect(), connectTimeoutMs: 300 });
    await expect(during.connect()).rejects.toMatchObject({ code: 'no-response' });
    await during.close();
    await s.nextBoot();
    const after = await connect(s);
    expect(await after.getConfig()).toMatchObject({ isConfig: false, crc: 0 });
  });

  it('a board that keeps the file (Creality style) will not flash the same name twice', async () => {
    const fw = makeSyntheticFirmware({ mcu: 'stm32f103xe', flashStart: 0x08007000, klipperVersion: 'v0.13.0-1-gcreality' });
    const { dev, card } = await cardWith({ 'klipper1.bin': fw.bytes });
    const s = sim({ board: 'creality-v4.2.7', card, link: { kind: 'uart', baud: 115200 } });
    expect((await s.powerCycle()).outcome).toMatchObject({ kind: 'flashed', file: 'klipper1.bin' });
    expect((await s.powerCycle()).outcome).toMatchObject({ kind: 'same-name' });
    expect(await names(dev)).toEqual(['KLIPPER1.BIN']);
  });
});

describe('reconnecting after a reset', () => {
  it('connectWithRetry waits for a USB board to re-enumerate and identify', async () => {
    const { connectWithRetry } = await import('../../src/klipper/reconnect.js');
    const s = sim({ mcu: 'lpc1768', link: { kind: 'usb' }, bootloader: false, bootMs: 400 });
    const first = await connect(s);
    await first.reset();
    const t0 = performance.now();
    const again = await connectWithRetry(() => s.connect(), { intervalMs: 50, totalTimeoutMs: 5000 });
    cleanup.push(() => again.close());
    expect(performance.now() - t0).toBeGreaterThan(300);
    expect(again.dictionary.constant('MCU')).toBe('lpc1768');
  });

  it('gives up with a typed error when the board never returns', async () => {
    const { connectWithRetry } = await import('../../src/klipper/reconnect.js');
    const s = sim({ mcu: 'lpc1768', link: { kind: 'usb' }, bootloader: false, bootMs: 60_000 });
    const first = await connect(s);
    await first.reset();
    await expect(connectWithRetry(() => s.connect(), { intervalMs: 50, totalTimeoutMs: 400 })).rejects.toMatchObject({ code: 'mcu-did-not-return' });
  });
});

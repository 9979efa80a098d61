import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { FwcardError } from '../../src/errors.js';
import { McuSession } from '../../src/klipper/session.js';
import { boardLink } from '../../src/sim/board-link.js';
import { mcuProfile } from '../../src/sim/mcu-profile.js';
import { buildSimDictionary } from '../../src/sim/sim-dictionary.js';
import { startSimulator } from '../../src/sim/simulator.js';
import { CLI, removeDir, tempDir } from '../helpers/judges.js';
import { SimulateProcesses } from '../helpers/simulate.js';

// Every board of the catalog can be simulated and identified (issue 15): in-process for all
// of them, through the real CLI and a pty for a few whose MCU once had no or a wrong profile.
const catalog = loadCatalog({ noUserConfig: true });
const dir = tempDir();
const sims = new SimulateProcesses();
afterAll(async () => {
  await sims.stopAll();
  removeDir(dir);
});

describe('every catalog board, simulated in-process', () => {
  it.each(catalog.all().map((b) => [b.name, b] as const))('%s serves and identifies', async (_name, board) => {
    const link = boardLink(board);
    const sim = startSimulator({ board, link: link === 'usb' ? { kind: 'usb' } : { kind: 'uart', baud: 250000 }, bootloader: false, statsIntervalMs: 0 });
    const s = new McuSession({ transport: sim.connect() });
    try {
      await s.connect();
      const mcu = board.klipper?.mcu ?? board.mcu;
      expect(s.dictionary.constant('MCU')).toBe(mcu);
      expect(s.dictionary.constantNumber('CLOCK_FREQ')).toBe(mcuProfile(mcu).clockFreq);
      // The board's card wiring exists in its MCU's bus tables (a wrong table threw here before).
      if (board.klipper) expect(sim.wiring?.kind).toBe(board.klipper.bus.kind);
      const constants = Object.keys(s.dictionary.raw.config ?? {});
      expect(constants).toContain(link === 'usb' ? 'RESERVE_PINS_USB' : 'RESERVE_PINS_serial');
    } finally {
      await s.close();
      sim.close();
    }
  });
});

describe('the running build decides', () => {
  it("CLOCK_FREQ, pins and buses come from the build's dictionary, not the chip's defaults", async () => {
    const raw = buildSimDictionary({ profile: mcuProfile('stm32f429xx'), link: 'usb' });
    raw.config = { ...raw.config, CLOCK_FREQ: 180_000_000 }; // a build with an overclocked F429
    raw.enumerations = { ...raw.enumerations, spi_bus: { spi1: 0 } };
    const sim = startSimulator({ board: 'btt-octopus-f429-v1', link: { kind: 'usb' }, firmware: { dictionary: raw }, bootloader: false, statsIntervalMs: 0 });
    const s = new McuSession({ transport: sim.connect() });
    try {
      await s.connect();
      expect(sim.chip.clockFreq).toBe(168_000_000);
      expect(sim.profile.clockFreq).toBe(180_000_000);
      expect(s.dictionary.constantNumber('CLOCK_FREQ')).toBe(180_000_000);
      // MCU time runs at the build's clock: ~180 000 ticks per ms.
      const a = await s.sendWithResponse('get_uptime', 'uptime');
      await new Promise((r) => setTimeout(r, 200));
      const b = await s.sendWithResponse('get_uptime', 'uptime');
      const perMs = (Number(b.clock) - Number(a.clock)) / 200;
      expect(perMs).toBeGreaterThan(170_000);
      expect(sim.profile.spiBuses).toEqual({ spi1: 0 });
    } finally {
      await s.close();
      sim.close();
    }
  });

  it("a build for another MCU cannot reach the card (its buses do not match the board's wiring)", () => {
    const other = buildSimDictionary({ profile: mcuProfile('stm32f446xx'), link: 'usb' });
    const sim = startSimulator({ board: 'btt-skr-v1.3', firmware: { dictionary: other }, bootloader: false, statsIntervalMs: 0 });
    expect(sim.wiring).toBeUndefined();
    sim.close();
  });
});

describe('MCU facts from Klipper', () => {
  it('CLOCK_FREQ per src/stm32/Kconfig: the STM32F429 runs at 168 MHz (MACH_STM32F4x5), the F446 at 180', () => {
    expect(mcuProfile('stm32f429xx').clockFreq).toBe(168_000_000);
    expect(mcuProfile('stm32f446xx').clockFreq).toBe(180_000_000);
    expect(mcuProfile('stm32h723xx').clockFreq).toBe(520_000_000);
    expect(mcuProfile('hc32f460').clockFreq).toBe(168_000_000);
  });

  it('STM32H7 buses come from stm32h7_spi.c, G0 ones from the G0 table of spi.c', () => {
    expect(mcuProfile('stm32h743xx').spiBuses).toMatchObject({ spi3a: 4, spi4: 5, spi2b: 9 });
    expect(mcuProfile('stm32h743xx').spiBuses.spi3).toBeUndefined();
    expect(mcuProfile('stm32g0b1xx').spiBuses).toMatchObject({ spi3: 6, spi2_PB6_PB7_PB8: 5 });
    expect(mcuProfile('stm32f407xx').spiBuses.spi4).toBeUndefined(); // no SPI4 on the F407
    expect(mcuProfile('stm32f429xx').spiBuses.spi6_PG12_PG14_PG13).toBe(8);
    expect(Object.keys(mcuProfile('stm32f401xc').pinRanges)).toEqual(['PA0', 'PB0', 'PC0', 'PD0', 'PE0', 'PH0']);
    expect(mcuProfile('stm32f401xc').pinRanges.PH0).toEqual([112, 16]);
  });

  it('the HC32F460 has no SPI (no HAVE_GPIO_SPI) and talks over a UART only', () => {
    const p = mcuProfile('hc32f460');
    expect(p.spiBuses).toEqual({});
    expect(p.links).toEqual(['uart']);
    expect(boardLink(catalog.get('creality-ender2-pro-hc32'))).toBe('uart');
  });

  it('an MCU without a profile is refused with a typed error (exit 2)', () => {
    let err: unknown;
    try {
      startSimulator({ mcu: 'atmega2560' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FwcardError);
    expect((err as FwcardError).code).toBe('sim-unsupported-mcu');
    expect((err as FwcardError).exitCode).toBe(2);
  });

  it('default links: USB for a BTT board, a UART for a Creality 4.2.2 (Klipper config: serial on USART1)', () => {
    expect(boardLink(catalog.get('btt-octopus-f446-v1'))).toBe('usb');
    expect(boardLink(catalog.get('btt-skr-v1.3'))).toBe('usb');
    expect(boardLink(catalog.get('creality-v4.2.2'))).toBe('uart');
  });
});

function fwcard(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env });
}

describe('fwcard simulate + mcu-info through a pty', () => {
  it.each([
    ['btt-skr-se-bx', 'stm32h743xx', 400_000_000, null],
    ['creality-ender2-pro-hc32', 'hc32f460', 168_000_000, 250000],
    ['btt-octopus-f429-v1', 'stm32f429xx', 168_000_000, null],
  ] as const)('%s: the board\'s own link, identified', async (board, mcu, clock, baud) => {
    const tty = join(dir, board);
    await sims.start(['--board', board, '--port-link', tty]);
    const r = fwcard(['mcu-info', tty, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mcu, clockFreq: clock, serialBaud: baud });
  }, 40_000);

  it('an MCU the simulator has no model of: exit 2 and a clear message, no internal error', () => {
    const file = join(dir, 'boards.json');
    writeFileSync(file, JSON.stringify({ boards: [{ name: 'my-avr', mcu: 'atmega2560', appStart: [0], firmwareName: 'firmware.bin' }] }));
    const r = fwcard(['simulate', '--board', 'my-avr', '--json'], { ...process.env, FWCARD_BOARDS: file });
    expect(r.status).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error.code).toBe('sim-unsupported-mcu');
    expect(doc.error.message).toMatch(/atmega2560/);
    expect(r.stdout + r.stderr).not.toMatch(/internal error/i);
  });
});

import { crc32 } from 'node:zlib';
import type { KlipperBus } from '../boards/types.js';
import { DeviceError, UsageError } from '../errors.js';
import { pulseTicks } from './clock-sync.js';
import type { McuSession } from './session.js';

/** spi_flash.py's clocks: 400 kHz for init, 4 MHz for boards marked fast_spi. */
export const SD_SPI_SPEED = 400_000;
export const FAST_SD_SPI_SPEED = 4_000_000;

export interface SpiConfigOptions {
  bus: Exclude<KlipperBus, { kind: 'sdio' }>;
  csPin: string;
  /** SPI clock in Hz (default 400 kHz). */
  rateHz?: number;
  oid?: number;
  /** SPI mode (SD cards: 0). */
  mode?: number;
}

/**
 * An oid the MCU accepted a bus configuration for. The SD buses over it are built in
 * `src/adapters/configure-bus.ts`, which knows both this protocol and the SD driver's bus types.
 */
export interface ConfiguredOid {
  oid: number;
  /** The commands as Klipper text, in the order sent (what the config CRC covers). */
  commands: string[];
  configCrc: number;
}

/** The MCU must be fresh (not configured, not shut down) before we configure it. */
export async function checkFresh(session: McuSession): Promise<void> {
  const cfg = await session.getConfig();
  if (cfg.isConfig || cfg.isShutdown) {
    throw new DeviceError('mcu-needs-restart', `the MCU is already ${cfg.isShutdown ? `shut down (${session.lastShutdown?.reason ?? 'unknown reason'})` : 'configured'}`, {
      hint: 'Reset it first (fwcard resets it for you in flash-sdcard), or stop the Klipper service that configured it.',
      details: { isConfig: cfg.isConfig, isShutdown: cfg.isShutdown },
    });
  }
}

function requireEnum(session: McuSession, enumNames: string[], value: string, what: string): void {
  for (const n of enumNames) {
    const e = session.dictionary.enumeration(n);
    if (e?.has(value)) return;
  }
  const known = enumNames.map((n) => session.dictionary.enumeration(n)).find(Boolean);
  throw new UsageError('invalid-' + what.replace(/\s+/g, '-'), `the MCU has no ${what} "${value}"`, {
    hint: known ? `This firmware knows: ${[...known.keys()].slice(0, 12).join(', ')}${known.size > 12 ? ', …' : ''}. Check the board definition.` : 'Check the board definition.',
    details: { value },
  });
}

/** Send the text commands in order, trying each fallback shape until one encodes. */
async function sendFirst(session: McuSession, candidates: string[]): Promise<string> {
  let last: unknown;
  for (const c of candidates) {
    let bytes: number[];
    try {
      bytes = session.encode(c);
    } catch (e) {
      last = e;
      continue;
    }
    await session.sendRaw(bytes);
    return c;
  }
  throw last;
}

async function finalize(session: McuSession, commands: string[]): Promise<number> {
  // spi_flash.py: zlib.crc32('\n'.join(cfg_cmds).encode()) & 0xffffffff
  const crc = crc32(Buffer.from(commands.join('\n'))) >>> 0;
  await session.send('finalize_config', { crc });
  const cfg = await session.getConfig();
  if (!cfg.isConfig || cfg.isShutdown) {
    throw new DeviceError('mcu-config-failed', `the MCU refused the configuration${session.lastShutdown ? `: ${session.lastShutdown.reason}` : ''}`, {
      hint: 'The pins or bus in the board definition do not exist on this MCU/firmware. Check the board, or rebuild Klipper for it.',
      details: { commands, shutdown: session.lastShutdown?.reason ?? null },
    });
  }
  return crc;
}

/**
 * Configure SPI to the card as scripts/spi_flash/spi_flash.py does: allocate_oids, config_spi
 * (with or without cs_active_high), then spi_set_bus or spi_set_sw_bus (or the older
 * spi_set_software_bus with a rate), finalize_config with the CRC of the command texts.
 */
export async function configureSpiOid(session: McuSession, o: SpiConfigOptions): Promise<ConfiguredOid> {
  const oid = o.oid ?? 0;
  const mode = o.mode ?? 0;
  const rate = o.rateHz ?? SD_SPI_SPEED;
  const cs = o.csPin.toUpperCase();
  requireEnum(session, ['pin'], cs, 'pin');
  let busCmds: string[];
  if (o.bus.kind === 'swspi') {
    const pins = [o.bus.miso, o.bus.mosi, o.bus.sclk].map((p) => p.toUpperCase());
    for (const p of pins) requireEnum(session, ['pin'], p, 'pin');
    const freq = session.dictionary.constantNumber('CLOCK_FREQ');
    if (!freq) throw new DeviceError('no-clock-freq', 'the MCU did not report CLOCK_FREQ, needed for software SPI timing');
    const ticks = pulseTicks(freq, rate);
    busCmds = [
      `spi_set_sw_bus oid=${oid} miso_pin=${pins[0]} mosi_pin=${pins[1]} sclk_pin=${pins[2]} mode=${mode} pulse_ticks=${ticks}`,
      `spi_set_software_bus oid=${oid} miso_pin=${pins[0]} mosi_pin=${pins[1]} sclk_pin=${pins[2]} mode=${mode} rate=${rate}`,
    ];
  } else {
    requireEnum(session, ['spi_bus', 'bus'], o.bus.bus, 'SPI bus');
    busCmds = [`spi_set_bus oid=${oid} spi_bus=${o.bus.bus} mode=${mode} rate=${rate}`];
  }
  const commands = [`allocate_oids count=${oid + 1}`];
  await session.send(commands[0]!);
  commands.push(await sendFirst(session, [`config_spi oid=${oid} pin=${cs} cs_active_high=0`, `config_spi oid=${oid} pin=${cs}`]));
  commands.push(await sendFirst(session, busCmds));
  const configCrc = await finalize(session, commands);
  return { oid, commands, configCrc };
}

export interface SdioConfigOptions {
  bus: string;
  blockSize?: number;
  oid?: number;
}

/** Configure SDIO as spi_flash.py does: allocate_oids, config_sdio, sdio_set_bus, finalize. */
export async function configureSdioOid(session: McuSession, o: SdioConfigOptions): Promise<ConfiguredOid & { blockSize: number }> {
  const oid = o.oid ?? 0;
  const blockSize = o.blockSize ?? 512;
  requireEnum(session, ['sdio_bus', 'bus'], o.bus, 'SDIO bus');
  const commands = [`allocate_oids count=${oid + 1}`, `config_sdio oid=${oid} blocksize=${blockSize}`, `sdio_set_bus oid=${oid} sdio_bus=${o.bus}`];
  for (const c of commands) await session.send(c);
  const configCrc = await finalize(session, commands);
  return { oid, blockSize, commands, configCrc };
}

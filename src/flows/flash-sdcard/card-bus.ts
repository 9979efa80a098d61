import type { Board } from '../../boards/types.js';
import { configureSdio, configureSpi } from '../../adapters/configure-bus.js';
import { FAST_SD_SPI_SPEED, SD_SPI_SPEED } from '../../klipper/mcu-config.js';
import type { McuSession } from '../../klipper/session.js';
import type { Trace } from '../../progress.js';
import type { SdHost } from '../../sdcard/sd-host.js';
import { SdioSdHost } from '../../sdcard/sdio-sd-host.js';
import { SpiSdHost } from '../../sdcard/spi-sd-host.js';
import type { BusCounters } from './link-stats.js';

export interface CardBus {
  host: SdHost;
  /** Messages on the SD bus so far. */
  counters(): BusCounters;
}

/** How the board's MCU reaches its card, as words for progress and the plan. */
export function busLabel(board: Board): string {
  const bus = board.klipper!.bus;
  return bus.kind === 'sdio' ? 'SDIO' : bus.kind === 'swspi' ? 'software SPI' : `SPI (${bus.bus})`;
}

/** Configure the board's SD bus on the MCU and put the SD host driver for it on top. */
export async function openCardBus(session: McuSession, board: Board, o: { fastSpi: boolean; trace?: Trace }): Promise<CardBus> {
  const k = board.klipper!;
  const trace = o.trace ? { trace: o.trace } : {};
  if (k.bus.kind === 'sdio') {
    const cfg = await configureSdio(session, { bus: k.bus.bus });
    const c = cfg.bus.counters;
    return { host: new SdioSdHost(cfg.bus, trace), counters: () => ({ answered: c.answered, unanswered: c.unanswered }) };
  }
  const rateHz = o.fastSpi ? FAST_SD_SPI_SPEED : SD_SPI_SPEED;
  const cfg = await configureSpi(session, { bus: k.bus, csPin: k.csPin!, rateHz });
  const c = cfg.bus.counters;
  return { host: new SpiSdHost(cfg.bus, { crc: true, busHz: rateHz, ...trace }), counters: () => ({ answered: c.transfers, unanswered: c.sends }) };
}

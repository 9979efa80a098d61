/**
 * The board's SD bus, configured on the MCU and ready for an SD host driver: the Klipper
 * configuration (`klipper/mcu-config.ts`) wrapped in the bus that speaks `spi_*` or `sdio_*`
 * to the oid it set up.
 */
import { configureSdioOid, configureSpiOid, type SdioConfigOptions, type SpiConfigOptions } from '../klipper/mcu-config.js';
import type { McuSession } from '../klipper/session.js';
import { KlipperSdioBus } from './klipper-sdio-bus.js';
import { KlipperSpiBus } from './klipper-spi-bus.js';

export interface ConfiguredBus<B> {
  bus: B;
  /** The commands as Klipper text, in the order sent (what the config CRC covers). */
  commands: string[];
  configCrc: number;
}

/** SPI to the card as scripts/spi_flash/spi_flash.py sets it up (see `configureSpiOid`). */
export async function configureSpi(session: McuSession, o: SpiConfigOptions): Promise<ConfiguredBus<KlipperSpiBus>> {
  const { oid, commands, configCrc } = await configureSpiOid(session, o);
  return { bus: new KlipperSpiBus(session, oid), commands, configCrc };
}

/** SDIO as spi_flash.py sets it up (see `configureSdioOid`). */
export async function configureSdio(session: McuSession, o: SdioConfigOptions): Promise<ConfiguredBus<KlipperSdioBus>> {
  const { oid, blockSize, commands, configCrc } = await configureSdioOid(session, o);
  return { bus: new KlipperSdioBus(session, blockSize, oid), commands, configCrc };
}

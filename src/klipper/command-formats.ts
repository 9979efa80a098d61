import type { DataDictionary } from './dictionary.js';
import type { MessageFormat } from './message-format.js';

/**
 * The command and response formats fwcard uses, newest first where Klipper reshaped them
 * over the years (the same fallbacks scripts/spi_flash/spi_flash.py carries: the "config"
 * response reordered in d4aee4f, config_spi gained cs_active_high in 7793784, and
 * spi_set_software_bus with rate= became spi_set_sw_bus with pulse_ticks=).
 */
export const FORMATS = {
  getConfig: ['get_config'],
  config: ['config is_config=%c crc=%u is_shutdown=%c move_count=%hu', 'config is_config=%c crc=%u move_count=%hu is_shutdown=%c'],
  allocateOids: ['allocate_oids count=%c'],
  finalizeConfig: ['finalize_config crc=%u'],
  getUptime: ['get_uptime'],
  uptime: ['uptime high=%u clock=%u'],
  getClock: ['get_clock'],
  clock: ['clock clock=%u'],
  reset: ['reset'],
  configReset: ['config_reset'],
  clearShutdown: ['clear_shutdown'],
  shutdown: ['shutdown clock=%u static_string_id=%hu'],
  isShutdown: ['is_shutdown static_string_id=%hu'],
  configSpi: ['config_spi oid=%c pin=%u cs_active_high=%c', 'config_spi oid=%c pin=%u'],
  spiSetBus: ['spi_set_bus oid=%c spi_bus=%u mode=%u rate=%u'],
  spiSetSwBus: [
    'spi_set_sw_bus oid=%c miso_pin=%u mosi_pin=%u sclk_pin=%u mode=%u pulse_ticks=%u',
    'spi_set_software_bus oid=%c miso_pin=%u mosi_pin=%u sclk_pin=%u mode=%u rate=%u',
  ],
  spiSend: ['spi_send oid=%c data=%*s'],
  spiTransfer: ['spi_transfer oid=%c data=%*s'],
  spiTransferResponse: ['spi_transfer_response oid=%c response=%*s'],
  configSdio: ['config_sdio oid=%c blocksize=%u'],
  sdioSetBus: ['sdio_set_bus oid=%c sdio_bus=%u'],
  sdioSetSpeed: ['sdio_set_speed oid=%c speed=%u'],
  sdioSendCommand: ['sdio_send_command oid=%c cmd=%c argument=%u wait=%c'],
  sdioSendCommandResponse: ['sdio_send_command_response oid=%c error=%c response=%*s'],
  sdioReadData: ['sdio_read_data oid=%c cmd=%c argument=%u'],
  sdioReadDataResponse: ['sdio_read_data_response oid=%c error=%c read=%u'],
  sdioWriteData: ['sdio_write_data oid=%c cmd=%c argument=%u'],
  sdioWriteDataResponse: ['sdio_write_data_response oid=%c error=%c write=%u'],
  sdioReadDataBuffer: ['sdio_read_data_buffer oid=%c offset=%u len=%c'],
  sdioReadDataBufferResponse: ['sdio_read_data_buffer_response oid=%c data=%*s'],
  sdioWriteDataBuffer: ['sdio_write_data_buffer oid=%c offset=%u data=%*s'],
} as const satisfies Record<string, readonly string[]>;

export type KnownFormat = keyof typeof FORMATS;

function paramNames(format: string): string[] {
  return format
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((a) => a.split('=')[0]!);
}

/**
 * The firmware's format for the first candidate it supports. A candidate matches when the
 * firmware has a message of that name with the same parameter names in the same order
 * (integer widths such as %c vs %u do not change the wire encoding, so they are not compared).
 * Returns the candidate's index too, so callers know which shape they got.
 */
export function resolveFormat(dict: DataDictionary, candidates: readonly string[]): { format: MessageFormat; index: number } | undefined {
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const name = c.trim().split(/\s+/)[0]!;
    const mf = dict.find(name);
    if (!mf) continue;
    const want = paramNames(c);
    const have = mf.paramNames;
    if (want.length === have.length && want.every((n, j) => n === have[j])) return { format: mf, index: i };
  }
  return undefined;
}

import type { RawDictionary } from '../klipper/dictionary.js';
import { buildDictionary } from './dictionary-builder.js';
import type { McuProfile } from './mcu-profile.js';

/** The SPI and SDIO commands of Klipper's src/spicmds.c, spi_software.c and sdiocmds.c (DECL_COMMAND formats). */
export const SD_BUS_COMMANDS = [
  'config_spi oid=%c pin=%u cs_active_high=%c',
  'config_spi_without_cs oid=%c',
  'spi_set_bus oid=%c spi_bus=%u mode=%u rate=%u',
  'spi_set_sw_bus oid=%c miso_pin=%u mosi_pin=%u sclk_pin=%u mode=%u pulse_ticks=%u',
  'spi_transfer oid=%c data=%*s',
  'spi_send oid=%c data=%*s',
  'config_sdio oid=%c blocksize=%u',
  'sdio_set_bus oid=%c sdio_bus=%u',
  'sdio_set_speed oid=%c speed=%u',
  'sdio_send_command oid=%c cmd=%c argument=%u wait=%c',
  'sdio_read_data oid=%c cmd=%c argument=%u',
  'sdio_write_data oid=%c cmd=%c argument=%u',
  'sdio_read_data_buffer oid=%c offset=%u len=%c',
  'sdio_write_data_buffer oid=%c offset=%u data=%*s',
];

/** Their responses (sendf formats). */
export const SD_BUS_RESPONSES = [
  'spi_transfer_response oid=%c response=%*s',
  'sdio_send_command_response oid=%c error=%c response=%*s',
  'sdio_read_data_response oid=%c error=%c read=%u',
  'sdio_write_data_response oid=%c error=%c write=%u',
  'sdio_read_data_buffer_response oid=%c data=%*s',
];

/** Responses of src/basecmd.c and sched.c that every build sends. */
export const BASE_RESPONSES = [
  'starting',
  'is_shutdown static_string_id=%hu',
  'shutdown clock=%u static_string_id=%hu',
  'stats count=%u sum=%u sumsq=%u',
  'uptime high=%u clock=%u',
  'clock clock=%u',
  'config is_config=%c crc=%u is_shutdown=%c move_count=%hu',
];

/** Commands the simulated firmware declares (format strings exactly as Klipper's DECL_COMMAND). */
export const SIM_COMMANDS = [
  'get_uptime',
  'get_clock',
  'get_config',
  'allocate_oids count=%c',
  'finalize_config crc=%u',
  'emergency_stop',
  'clear_shutdown',
  'reset',
  ...SD_BUS_COMMANDS,
];

/** Responses (sendf formats exactly as Klipper's). */
export const SIM_RESPONSES = [...BASE_RESPONSES, ...SD_BUS_RESPONSES];

/** shutdown() texts of the code the simulator emulates (static strings, ids from 2). */
export const SIM_STATIC_STRINGS = [
  'Shutdown cleared when not shutdown',
  'Invalid command',
  'Command parser error',
  'Command request',
  'oids already allocated',
  "Can't assign oid",
  'Invalid oid type',
  'Already finalized',
  'Invalid spi config',
  'Invalid spi bus',
  'Invalid spi_setup parameters',
  'Invalid sdio bus',
  'Not a valid pin',
  'Not an output pin',
  'Not an input pin',
  'alloc_chunk failed',
];

export interface SimDictionaryOptions {
  profile: McuProfile;
  version?: string;
  link: 'uart' | 'usb';
  baud?: number;
  /** Bytes of the UART receive buffer (Klipper: 192). */
  receiveWindow?: number;
}

/** The dictionary of the simulator's own firmware for an MCU profile and link. */
export function buildSimDictionary(o: SimDictionaryOptions): RawDictionary {
  const p = o.profile;
  const config: Record<string, number | string> = { MCU: p.mcu, CLOCK_FREQ: p.clockFreq, STATS_SUMSQ_BASE: 256, ...p.busPins };
  if (o.link === 'uart') {
    config.SERIAL_BAUD = o.baud ?? 250000;
    config.RECEIVE_WINDOW = o.receiveWindow ?? 192;
    Object.assign(config, p.reservePins.uart);
  } else {
    Object.assign(config, p.reservePins.usb ?? {});
  }
  const enumerations: DictionaryEnumerations = { pin: p.pinRanges, spi_bus: p.spiBuses };
  if (Object.keys(p.sdioBuses).length) enumerations.sdio_bus = p.sdioBuses;
  return buildDictionary({
    commands: SIM_COMMANDS,
    responses: SIM_RESPONSES,
    staticStrings: SIM_STATIC_STRINGS,
    config,
    enumerations,
    version: o.version ?? 'v0.13.0-fwcard-sim',
    buildVersions: 'gcc: (fwcard-sim) binutils: (fwcard-sim)',
  });
}

type DictionaryEnumerations = Record<string, Record<string, number | [number, number]>>;

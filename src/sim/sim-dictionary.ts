import type { RawDictionary } from '../klipper/dictionary.js';
import { buildDictionary } from './dictionary-builder.js';
import type { McuProfile } from './mcu-profile.js';
import { BUILD_COMMANDS, BUILD_RESPONSES, BUILD_STATIC_STRINGS, SDIO_AFTER, SDIO_COMMANDS, SDIO_RESPONSES, SDIO_RESPONSES_AFTER } from './klipper-messages.js';

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

/** Responses of src/basecmd.c and sched.c that every build sends: the first of a build's. */
export const BASE_RESPONSES = BUILD_RESPONSES.slice(0, 7);

/** Commands of src/spicmds.c and src/spi_software.c (builds with WANT_SPI), and the SPI response. */
const SPI_ONLY = /^(config_spi|config_spi_without_cs|spi_set_bus|spi_set_sw_bus|spi_transfer|spi_send|config_spi_shutdown|spi_transfer_response) /;

/**
 * The message lists of a Klipper build for this chip: the full command set of a real build
 * (src/sim/klipper-messages.ts), with src/sdiocmds.c where the chip has SDIO and without the
 * SPI commands where it has no SPI (HC32F460). Other optional modules are kept as the
 * default menuconfig of an LPC1768/STM32 build has them (an approximation for the HC32F460).
 */
export function buildMessages(p: McuProfile): { commands: string[]; responses: string[] } {
  const spi = Object.keys(p.spiBuses).length > 0;
  const sdio = Object.keys(p.sdioBuses).length > 0;
  const insertAfter = (list: readonly string[], after: string, extra: readonly string[]): string[] => {
    const i = list.indexOf(after);
    return [...list.slice(0, i + 1), ...extra, ...list.slice(i + 1)];
  };
  let commands = sdio ? insertAfter(BUILD_COMMANDS, SDIO_AFTER, SDIO_COMMANDS) : [...BUILD_COMMANDS];
  let responses = sdio ? insertAfter(BUILD_RESPONSES, SDIO_RESPONSES_AFTER, SDIO_RESPONSES) : [...BUILD_RESPONSES];
  if (!spi) {
    commands = commands.filter((c) => !SPI_ONLY.test(c));
    responses = responses.filter((r) => !SPI_ONLY.test(r));
  }
  return { commands, responses };
}

/** Commands the simulator emulates (the rest of a build's commands are accepted and do nothing). */
export const SIM_COMMANDS = ['get_uptime', 'get_clock', 'get_config', 'allocate_oids count=%c', 'finalize_config crc=%u', 'emergency_stop', 'clear_shutdown', 'reset', ...SD_BUS_COMMANDS];

/** Responses the simulator sends. */
export const SIM_RESPONSES = [...BASE_RESPONSES, ...SD_BUS_RESPONSES];

/**
 * shutdown() texts: the LPC1768 build's list (ids from 2), then the texts of the STM32 code the
 * simulator emulates (src/stm32/gpio.c, spi.c, sdio.c) that build lacks.
 */
export const SIM_STATIC_STRINGS = [...BUILD_STATIC_STRINGS, 'Not a valid pin', 'Invalid spi bus', 'Invalid sdio bus'];

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
  const { commands, responses } = buildMessages(p);
  return buildDictionary({
    commands,
    responses,
    staticStrings: SIM_STATIC_STRINGS,
    config,
    enumerations,
    version: o.version ?? 'v0.13.0-fwcard-sim',
    buildVersions: 'gcc: (fwcard-sim) binutils: (fwcard-sim)',
  });
}

type DictionaryEnumerations = Record<string, Record<string, number | [number, number]>>;

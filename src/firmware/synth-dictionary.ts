/**
 * Builds a Klipper-shaped data dictionary for synthetic test firmware. The shape follows
 * what Klipper's scripts/buildcommands.py writes to out/klipper.dict (K-BC): keys `app`,
 * `build_versions`, `commands`, `config`, `enumerations`, `license`, `responses`, `version`,
 * message ids assigned in declaration order after the two fixed identify messages and
 * converted to their signed VLQ form. The message formats below are a subset of the
 * protocol Klipper's MCU code declares; the text is ours.
 */
import { mcuProfile, type McuProfile } from '../sim/mcu-profile.js';
import { mcuMemory } from './mcu-memory.js';

export type SynthInterface =
  | { kind: 'usb' }
  | { kind: 'serial'; baud?: number; pins?: string }
  | { kind: 'can'; frequency?: number; pins?: string };

export interface SynthDictionaryOptions {
  mcu: string;
  version?: string;
  buildVersions?: string;
  clockFreq?: number;
  interface?: SynthInterface;
  /** Extra constants merged into `config`. */
  config?: Record<string, string | number>;
}

export type KlipperDictionary = Record<string, unknown> & {
  version: string;
  build_versions: string;
  config: Record<string, string | number>;
  commands: Record<string, number>;
  responses: Record<string, number>;
  enumerations: Record<string, Record<string, number | [number, number]>>;
};

const DEFAULT_MESSAGES: [string, number][] = [
  ['identify_response offset=%u data=%.*s', 0],
  ['identify offset=%u count=%c', 1],
];

// Command formats (MCU side declares them with DECL_COMMAND).
const COMMANDS = [
  'get_uptime',
  'get_clock',
  'get_config',
  'reset',
  'allocate_oids count=%c',
  'finalize_config crc=%u',
  'emergency_stop',
  'clear_shutdown',
  'debug_nop',
  'debug_ping data=%*s',
  'debug_read order=%c addr=%u',
  'debug_write order=%c addr=%u val=%u',
  'config_digital_out oid=%c pin=%u value=%c default_value=%c max_duration=%u',
  'set_digital_out_pwm_cycle oid=%c cycle_ticks=%u',
  'queue_digital_out oid=%c clock=%u on_ticks=%u',
  'update_digital_out oid=%c value=%c',
  'set_digital_out pin=%u value=%c',
  'config_pwm_out oid=%c pin=%u cycle_ticks=%u value=%hu default_value=%hu max_duration=%u',
  'queue_pwm_out oid=%c clock=%u value=%hu',
  'set_pwm_out pin=%u cycle_ticks=%u value=%hu',
  'config_analog_in oid=%c pin=%u',
  'config_endstop oid=%c pin=%c pull_up=%c',
  'endstop_query_state oid=%c',
  'config_stepper oid=%c step_pin=%c dir_pin=%c invert_step=%c step_pulse_ticks=%u',
  'queue_step oid=%c interval=%u count=%hu add=%hi',
  'set_next_step_dir oid=%c dir=%c',
  'reset_step_clock oid=%c clock=%u',
  'stepper_get_position oid=%c',
  'stepper_stop_on_trigger oid=%c trsync_oid=%c',
  'config_trsync oid=%c',
  'trsync_start oid=%c report_clock=%u report_ticks=%u expire_reason=%c',
  'trsync_set_timeout oid=%c clock=%u',
  'trsync_trigger oid=%c reason=%c',
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
  'config_tmcuart oid=%c rx_pin=%u pull_up=%c tx_pin=%u bit_time=%u',
  'tmcuart_send oid=%c write=%*s read=%c',
];

// Response formats (MCU side sends them with sendf).
const RESPONSES = [
  'starting',
  'is_shutdown static_string_id=%hu',
  'shutdown clock=%u static_string_id=%hu',
  'stats count=%u sum=%u sumsq=%u',
  'uptime high=%u clock=%u',
  'clock clock=%u',
  'config is_config=%c crc=%u is_shutdown=%c move_count=%hu',
  'pong data=%*s',
  'debug_result val=%u',
  'analog_in_state oid=%c next_clock=%u values=%*s',
  'endstop_state oid=%c homing=%c next_clock=%u pin_value=%c',
  'stepper_position oid=%c pos=%i',
  'trsync_state oid=%c can_trigger=%c trigger_reason=%c clock=%u',
  'spi_transfer_response oid=%c response=%*s',
  'sdio_send_command_response oid=%c error=%c response=%*s',
  'sdio_read_data_response oid=%c error=%c read=%u',
  'sdio_write_data_response oid=%c error=%c write=%u',
  'sdio_read_data_buffer_response oid=%c data=%*s',
  'tmcuart_response oid=%c read=%*s',
];

const STATIC_STRINGS = [
  'Shutdown cleared when not shutdown',
  'Timer too close',
  'sentinel timer called',
  'Invalid command',
  'Message encode error',
  'Command parser error',
  'Command request',
  'config_reset only available when shutdown',
  'oids already allocated',
  'Can not malloc',
  'Invalid oid type',
  'Already finalized',
  'Invalid move request size',
  'Move queue overflow',
  'Scheduled digital out event will exceed max_duration',
  'Missed scheduling of next digital out event',
  'Stepper too far in past',
  'Invalid count parameter',
  'Can not set stepper position while moving',
  'SPI transfer too large',
  'Invalid spi config',
];

/**
 * Klipper sends message ids as VLQ ("encoded" ids 0..2^14); the dictionary stores the value
 * the encoding parses back to, where a first byte with bits 0x60 set is negative (msgproto PT_int32).
 */
export function encodedToMsgId(enc: number): number {
  const bytes = enc >= 0x80 ? [(enc >> 7) | 0x80, enc & 0x7f] : [enc];
  let c = bytes[0]!;
  let v = c & 0x7f;
  if ((c & 0x60) === 0x60) v |= -0x20;
  let i = 1;
  while (c & 0x80) {
    c = bytes[i++]!;
    v = (v << 7) | (c & 0x7f);
  }
  return v | 0;
}

function pinEnumeration(mcu: string): Record<string, [number, number]> {
  const mem = mcuMemory(mcu);
  if (mem?.family === 'lpc176x') {
    const out: Record<string, [number, number]> = {};
    for (let port = 0; port < 5; port++) out[`P${port}.0`] = [port * 32, 32];
    return out;
  }
  const ports = mcu.startsWith('stm32h7') ? 'ABCDEFGHIJK' : mcu.startsWith('stm32f4') || mcu.startsWith('stm32f7') ? 'ABCDEFGHI' : 'ABCDEF';
  const out: Record<string, [number, number]> = {};
  [...ports].forEach((p, i) => (out[`P${p}0`] = [i * 16, 16]));
  return out;
}

function interfaceConfig(mcu: string, itf: SynthInterface): Record<string, string | number> {
  const lpc = mcuMemory(mcu)?.family === 'lpc176x';
  switch (itf.kind) {
    case 'usb':
      return { RESERVE_PINS_USB: lpc ? 'P0.30,P0.29' : 'PA11,PA12' };
    case 'serial':
      return { SERIAL_BAUD: itf.baud ?? 250000, RECEIVE_WINDOW: 192, RESERVE_PINS_serial: itf.pins ?? (lpc ? 'P0.3,P0.2' : 'PA10,PA9') };
    case 'can':
      return { CANBUS_FREQUENCY: itf.frequency ?? 1000000, RECEIVE_WINDOW: 192, RESERVE_PINS_CAN: itf.pins ?? (lpc ? 'P0.0,P0.1' : 'PB8,PB9') };
  }
}

/** A dictionary shaped like Klipper's out/klipper.dict. */
export function makeKlipperDictionary(opts: SynthDictionaryOptions): KlipperDictionary {
  const mem = mcuMemory(opts.mcu);
  // Pins and buses as real Klipper builds for this MCU declare them (the simulator's profile),
  // so a synthetic firmware "flashed" in the simulator can drive its SD card like the real one.
  let profile: McuProfile | null = null;
  try {
    profile = mcuProfile(opts.mcu);
  } catch {
    profile = null;
  }
  const msgToEnc = new Map<string, number>(DEFAULT_MESSAGES);
  let enc = 1;
  for (const m of [...COMMANDS, ...RESPONSES]) if (!msgToEnc.has(m)) msgToEnc.set(m, ++enc);
  const commands: Record<string, number> = {};
  const responses: Record<string, number> = {};
  for (const [m, e] of msgToEnc) {
    const id = encodedToMsgId(e);
    if (m.startsWith('identify ') || COMMANDS.includes(m)) commands[m] = id;
    else responses[m] = id;
  }
  const staticIds: Record<string, number> = {};
  STATIC_STRINGS.forEach((s, i) => (staticIds[s] = i + 2));
  const config: Record<string, string | number> = {
    ADC_MAX: 4095,
    ...(profile ? profile.busPins : { BUS_PINS_spi1: mem?.family === 'lpc176x' ? 'P0.17,P0.18,P0.15' : 'PA6,PA7,PA5' }),
    CLOCK_FREQ: opts.clockFreq ?? mem?.clockFreq ?? 72000000,
    MCU: opts.mcu,
    PWM_MAX: 255,
    STATS_SUMSQ_BASE: 256,
    STEPPER_STEP_BOTH_EDGE: 1,
    ...interfaceConfig(opts.mcu, opts.interface ?? { kind: 'usb' }),
    ...(opts.config ?? {}),
  };
  return {
    app: 'Klipper',
    build_versions: opts.buildVersions ?? 'gcc: (15:12.2.rel1-1) 12.2.1 20221205 binutils: (2.40-2+18+b1) 2.40',
    commands,
    config,
    enumerations: {
      pin: profile ? profile.pinRanges : pinEnumeration(opts.mcu),
      spi_bus: profile ? profile.spiBuses : { spi1: 0, spi1a: 1, spi2: 2, spi3: 3 },
      ...(profile && Object.keys(profile.sdioBuses).length ? { sdio_bus: profile.sdioBuses } : {}),
      static_string_id: staticIds,
    },
    license: 'GNU GPLv3',
    responses,
    version: opts.version ?? 'v0.13.0-0-gfwcard0',
  };
}

/** JSON text exactly as buildcommands.py writes it: sorted keys, no spaces. */
export function dictionaryText(dict: unknown): string {
  return JSON.stringify(sortKeys(dict));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

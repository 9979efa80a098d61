import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { McuInfo } from '../../flows/mcu-info.js';
import { traceTo } from '../../progress.js';
import { action } from '../action.js';
import { KLIPPER_DEFAULT_BAUD, addCommonOptions, parseCommon, positiveInteger, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';
import { wrap } from '../wrap.js';

interface McuInfoCommandOptions {
  device: string;
  baud: number;
  timeoutMs: number;
  common: CommonOptions;
}

/** Constants that describe the MCU's interface, shown first. */
const INTERFACE_CONSTANTS = ['SERIAL_BAUD', 'RECEIVE_WINDOW', 'CANBUS_FREQUENCY', 'CANBUS_BRIDGE', 'RESERVE_PINS_USB', 'RESERVE_PINS_serial', 'RESERVE_PINS_CAN'];

function parse([device]: [string], raw: RawOptions): McuInfoCommandOptions {
  const baud = positiveInteger(raw.baud, () => new UsageError('bad-baud', `"${String(raw.baud)}" is not a baud rate`, { hint: 'Klipper UARTs default to 250000.' }));
  const timeoutMs = Number(raw.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('bad-timeout', `"${String(raw.timeout)}" is not a number of milliseconds`);
  return { device, baud, timeoutMs, common: parseCommon(raw) };
}

async function run(o: McuInfoCommandOptions, out: Output): Promise<void> {
  const { mcuInfo } = await import('../../flows/mcu-info.js');
  const info = await mcuInfo({ device: o.device, baud: o.baud, timeoutMs: o.timeoutMs, ...(o.common.verbose ? { trace: traceTo((namespace, message) => out.info(`[${namespace}] ${message}`)) } : {}) });
  if (out.json) out.result(info);
  else render(out, info);
}

function render(out: Output, info: McuInfo): void {
  const { constants, clockFreq } = info;
  for (const l of wrap(`${info.device}: ${info.app ?? 'unknown app'} ${info.version}`, { first: '', rest: '  ' })) out.line(l);
  out.line(`  MCU              ${String(info.mcu)}`);
  out.line(`  clock frequency  ${clockFreq === null ? 'unknown' : `${clockFreq / 1e6} MHz`}`);
  for (const l of wrap(info.buildVersions || '-', { first: '  build versions   ' })) out.line(l);
  const state = info.isConfig === null ? 'unknown' : `${info.isConfig ? 'configured' : 'not configured'}, ${info.isShutdown ? `shut down${info.shutdownReason ? ` (${info.shutdownReason})` : ''}` : 'running'}`;
  for (const l of wrap(state, { first: '  state            ' })) out.line(l);
  if (info.isConfig) out.line(`  config CRC       ${info.configCrc}`);
  out.line(`  protocol         ${info.commands} commands, ${info.responses} responses`);
  // NAME=value items, wrapped under their label: a value never splits from its name.
  const items = (label: string, keys: string[]): void => {
    if (keys.length) for (const l of wrap(keys.map((k) => `${k}=${String(constants[k]).replace(/\s+/g, '\u00a0')}`).join(' '), { first: `  ${label.padEnd(16)} ` })) out.line(l);
  };
  const iface = INTERFACE_CONSTANTS.filter((k) => k in constants);
  items('interface', iface);
  items(
    'constants',
    Object.keys(constants)
      .filter((k) => !iface.includes(k) && k !== 'MCU' && k !== 'CLOCK_FREQ')
      .sort(),
  );
}

export function register(program: Command): void {
  const cmd = program
    .command('mcu-info')
    .argument('<device>', 'serial device of a board running Klipper (e.g. /dev/serial/by-id/usb-Klipper_…, /dev/ttyAMA0)')
    .description("Connect to a Klipper MCU, identify it and show its firmware version, MCU type, clock and state.")
    .option('-b, --baud <baud>', 'baud rate for UART connections (USB ignores it)', String(KLIPPER_DEFAULT_BAUD))
    .option('--timeout <ms>', 'how long to wait for an answer', '5000');
  addCommonOptions(cmd, { json: true, verbose: 'trace the protocol on stderr' })
    .addHelpText(
      'after',
      `
Stop the Klipper service first (\`sudo service klipper stop\`): only one program can hold the port.

Examples:
  fwcard mcu-info /dev/serial/by-id/usb-Klipper_stm32f446xx_12345-if00
  fwcard mcu-info /dev/ttyAMA0 -b 250000 --json`,
    )
    .action(action(parse, run));
}

import type { Command } from 'commander';
import { McuSession } from '../../klipper/session.js';
import type { McuConfigState } from '../../klipper/session.js';
import { traceTo } from '../../progress.js';
import { SerialTransport } from '../../transport/serial-port.js';
import { UsageError } from '../../errors.js';
import { Output, reportError } from '../output.js';

interface McuInfoOptions {
  baud: string;
  json?: boolean;
  timeout: string;
  verbose?: boolean;
}

/** Constants that describe the MCU's interface, shown first. */
const INTERFACE_CONSTANTS = ['SERIAL_BAUD', 'RECEIVE_WINDOW', 'CANBUS_FREQUENCY', 'CANBUS_BRIDGE', 'RESERVE_PINS_USB', 'RESERVE_PINS_serial', 'RESERVE_PINS_CAN'];

export function register(program: Command): void {
  program
    .command('mcu-info')
    .argument('<device>', 'serial device of a board running Klipper (e.g. /dev/serial/by-id/usb-Klipper_…, /dev/ttyAMA0)')
    .description("Connect to a Klipper MCU, identify it and show its firmware version, MCU type, clock and state.")
    .option('-b, --baud <baud>', 'baud rate for UART connections (USB ignores it)', '250000')
    .option('--timeout <ms>', 'how long to wait for an answer', '5000')
    .option('--json', 'print one JSON document on stdout')
    .option('-v, --verbose', 'trace the protocol on stderr')
    .addHelpText(
      'after',
      `
Stop the Klipper service first (\`sudo service klipper stop\`): only one program can hold the port.

Examples:
  fwcard mcu-info /dev/serial/by-id/usb-Klipper_stm32f446xx_12345-if00
  fwcard mcu-info /dev/ttyAMA0 -b 250000 --json`,
    )
    .action(async (device: string, o: McuInfoOptions) => {
      const out = new Output({ json: !!o.json, verbose: !!o.verbose });
      const baud = Number(o.baud);
      const timeout = Number(o.timeout);
      let session: McuSession | undefined;
      try {
        if (!Number.isInteger(baud) || baud <= 0) throw new UsageError('bad-baud', `"${o.baud}" is not a baud rate`, { hint: 'Klipper UARTs default to 250000.' });
        if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('bad-timeout', `"${o.timeout}" is not a number of milliseconds`);
        session = new McuSession({
          transport: new SerialTransport({ path: device, baudRate: baud }),
          connectTimeoutMs: timeout,
          timeoutMs: timeout,
          trace: o.verbose ? traceTo((namespace, message) => out.info(`[${namespace}] ${message}`)) : undefined,
        });
        const dict = await session.connect();
        let state: McuConfigState | undefined;
        try {
          state = await session.getConfig();
        } catch (e) {
          if (o.verbose) out.info(`[klipper] get_config failed: ${(e as Error).message}`);
        }
        let shutdownReason: string | undefined;
        if (state?.isShutdown) shutdownReason = await session.shutdownReason().catch(() => undefined);
        const constants = { ...dict.constants };
        const clockFreq = dict.constantNumber('CLOCK_FREQ') ?? null;
        const doc = {
          ok: true,
          device,
          app: dict.app || null,
          version: dict.version,
          buildVersions: dict.buildVersions,
          mcu: dict.constant('MCU') ?? null,
          clockFreq,
          isConfig: state?.isConfig ?? null,
          isShutdown: state?.isShutdown ?? null,
          configCrc: state?.crc ?? null,
          moveCount: state?.moveCount ?? null,
          shutdownReason: shutdownReason ?? session.lastShutdown?.reason ?? null,
          serialBaud: dict.constantNumber('SERIAL_BAUD') ?? null,
          receiveWindow: dict.constantNumber('RECEIVE_WINDOW') ?? null,
          constants,
          commands: dict.formats().commands.length,
          responses: dict.formats().responses.length,
        };
        if (out.json) out.result(doc);
        else {
          out.line(`${device}: ${doc.app ?? 'unknown app'} ${doc.version}`);
          out.line(`  MCU              ${String(doc.mcu)}`);
          out.line(`  clock frequency  ${clockFreq === null ? 'unknown' : `${clockFreq / 1e6} MHz`}`);
          out.line(`  build versions   ${doc.buildVersions || '-'}`);
          out.line(
            `  state            ${state ? `${state.isConfig ? 'configured' : 'not configured'}, ${state.isShutdown ? `shut down${doc.shutdownReason ? ` (${doc.shutdownReason})` : ''}` : 'running'}` : 'unknown'}`,
          );
          if (state?.isConfig) out.line(`  config CRC       ${state.crc}`);
          out.line(`  protocol         ${doc.commands} commands, ${doc.responses} responses`);
          const iface = INTERFACE_CONSTANTS.filter((k) => k in constants);
          if (iface.length) out.line(`  interface        ${iface.map((k) => `${k}=${String(constants[k])}`).join(' ')}`);
          const rest = Object.keys(constants)
            .filter((k) => !iface.includes(k) && k !== 'MCU' && k !== 'CLOCK_FREQ')
            .sort();
          if (rest.length) out.line(`  constants        ${rest.map((k) => `${k}=${String(constants[k])}`).join(' ')}`);
        }
      } catch (e) {
        process.exitCode = reportError(e, out);
      } finally {
        await session?.close();
      }
    });
}

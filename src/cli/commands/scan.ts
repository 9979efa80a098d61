import type { Command } from 'commander';
import type { ScanResult, ScannedDevice } from '../../flows/scan.js';
import { formatBytes } from '../../util/size.js';
import { action } from '../action.js';
import { wrap } from '../wrap.js';
import { addCommonOptions, parseCommon, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';

interface ScanOptions {
  common: CommonOptions;
}

function heading(d: ScannedDevice): string {
  const where = d.usb ? `${d.usb.id}` : d.ports[0]!;
  const extra: string[] = [];
  if (d.mcu) extra.push(d.mcu);
  if (d.chip?.family) extra.push(d.chip.family);
  if (d.chip?.flashBytes) extra.push(`${formatBytes(d.chip.flashBytes)} flash`);
  return `${where} ${d.title}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

function renderDevice(out: Output, d: ScannedDevice, mark: string): void {
  for (const l of wrap(heading(d), `${mark} `, '    ')) out.line(l);
  if (d.usb) {
    const names = [d.usb.manufacturer, d.usb.product].filter(Boolean).join(' ');
    const said = [names && `"${names}"`, d.usb.serial && `serial ${d.usb.serial}`, `USB ${d.usb.path}`].filter(Boolean).join(', ');
    for (const l of wrap(said, '    ')) out.line(l);
  }
  if (d.usb) for (const p of d.ports) out.line(`    ${p}`);
  for (const id of d.byId) for (const l of wrap(id, '    ')) out.line(l);
  for (const l of wrap(d.meaning, '    ')) out.line(l);
  for (const n of d.next) for (const l of wrap(n, '    → ', '      ')) out.line(l);
}

function render(out: Output, r: ScanResult): void {
  if (!r.available) {
    out.line('No USB device tree to read (/sys/bus/usb): fwcard scan reads Linux sysfs.');
  }
  const boards = r.devices.filter((d) => !['card-reader', 'uart', 'other'].includes(d.kind));
  const rest = r.devices.filter((d) => !boards.includes(d));
  for (const d of boards) {
    renderDevice(out, d, out.color(32, '●'));
    out.line();
  }
  if (!r.boards) {
    out.line(`${out.color(33, '!')} No printer board on USB: not in a ROM loader, not running Klipper, Katapult`);
    out.line('  or any USB serial firmware. What to check, most likely first:');
    r.nothingFound.forEach((t, i) => {
      for (const l of wrap(t, `  ${i + 1}. `, '     ')) out.line(l);
    });
    out.line();
  }
  for (const d of rest.filter((x) => x.kind !== 'other')) {
    renderDevice(out, d, '·');
    out.line();
  }
  const others = rest.filter((x) => x.kind === 'other');
  if (others.length) {
    out.line('Other USB devices:');
    for (const d of others) {
      const names = [d.usb!.manufacturer, d.usb!.product].filter(Boolean).join(' ');
      for (const l of wrap(`${d.usb!.id} ${names || '(no name)'}`, '  ', '    ')) out.line(l);
    }
  }
}

const parse = (_args: [], raw: RawOptions): ScanOptions => ({ common: parseCommon(raw) });

async function run(_o: ScanOptions, out: Output): Promise<void> {
  const { scan } = await import('../../flows/scan.js');
  const r = scan();
  if (out.json) out.result(r);
  else render(out, r);
}

export function register(program: Command): void {
  const cmd = program
    .command('scan')
    .description('List the USB devices and serial ports this machine sees, each classified (ROM DFU loader, Klipper and its MCU, Katapult, USB-UART bridge, card reader), with what that state means and the next step.');
  addCommonOptions(cmd, { json: true, color: true })
    .addHelpText(
      'after',
      `
Reads Linux sysfs (/sys/bus/usb/devices, /sys/class/tty) and /dev/serial/by-id; opens nothing.
FWCARD_SYSFS_ROOT and FWCARD_DEV_ROOT name directories standing in for /sys and /dev.

Examples:
  fwcard scan
  fwcard scan --json`,
    )
    .action(action(parse, run));
}

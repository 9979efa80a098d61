import type { Command } from 'commander';
import type { Drive } from '../../disk/drives.js';
import { formatBytes } from '../../util/size.js';
import { action } from '../action.js';
import { wrap } from '../wrap.js';
import { addCommonOptions, parseCommon, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';

interface DrivesOptions {
  all: boolean;
  common: CommonOptions;
}

const parse = (_args: [], raw: RawOptions): DrivesOptions => ({ all: !!raw.all, common: parseCommon(raw) });

async function run(o: DrivesOptions, out: Output): Promise<void> {
  const { listDrives } = await import('../../disk/drives.js');
  const drives = await listDrives({ all: o.all });
  if (out.json) out.result({ ok: true, drives });
  else render(out, drives);
}

function render(out: Output, drives: Drive[]): void {
  if (!drives.length) {
    out.line('No removable drives found. Insert the card (reader) and try again, or use `fwcard drives --all`.');
    return;
  }
  for (const d of drives) {
    const kind = d.isCard ? 'SD card' : d.isUsb ? 'USB reader' : d.bus;
    const size = d.sizeBytes === null ? '?' : formatBytes(d.sizeBytes);
    const mounts = d.mountpoints.length ? ` mounted: ${d.mountpoints.join(', ')}` : '';
    const hidden = d.hiddenBecause ? `  [${d.hiddenBecause}]` : '';
    const head = `${d.device.padEnd(14)} ${size.padStart(10)}  ${kind.padEnd(10)}`;
    const rest = `${d.description}${mounts}${hidden}`;
    // One line when it fits the terminal; else the description, mounts and reason wrap below,
    // under the size column (a path stays whole on its line).
    const one = `${head} ${rest}`;
    if (one.length <= (process.stdout.columns || 80)) out.line(one);
    else for (const l of [head.trimEnd(), ...wrap(rest, ''.padEnd(15))]) out.line(l);
    for (const id of d.byId.slice(0, 1)) out.line(`${''.padEnd(14)} /dev/disk/by-id/${id}`);
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('drives')
    .description('List the drives a card can be prepared on: removable, card readers and USB; not system, virtual or read-only.')
    .option('--all', 'also list the drives fwcard will not offer, marked with the reason, and the attached loop devices with their image files');
  addCommonOptions(cmd, { json: true })
    .addHelpText('after', '\nExamples:\n  fwcard drives\n  fwcard drives --all --json')
    .action(action(parse, run));
}

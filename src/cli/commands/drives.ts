import type { Command } from 'commander';
import { listDrives } from '../../disk/drives.js';
import { formatBytes } from '../../util/size.js';
import { Output, reportError } from '../output.js';

export function register(program: Command): void {
  program
    .command('drives')
    .description('List the drives a card can be prepared on: removable, card readers and USB; not system, virtual or read-only.')
    .option('--all', 'also list the drives fwcard will not offer, marked with the reason')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  fwcard drives\n  fwcard drives --all --json')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      const out = new Output({ json: !!o.json });
      try {
        const drives = await listDrives({ all: !!o.all });
        if (out.json) {
          out.result({ ok: true, drives });
          return;
        }
        if (!drives.length) {
          out.line('No removable drives found. Insert the card (reader) and try again, or use `fwcard drives --all`.');
          return;
        }
        for (const d of drives) {
          const kind = d.isCard ? 'SD card' : d.isUsb ? 'USB reader' : d.bus;
          const size = d.sizeBytes === null ? '?' : formatBytes(d.sizeBytes);
          const mounts = d.mountpoints.length ? ` mounted: ${d.mountpoints.join(', ')}` : '';
          const hidden = d.hiddenBecause ? `  [${d.hiddenBecause}]` : '';
          out.line(`${d.device.padEnd(14)} ${size.padStart(10)}  ${kind.padEnd(10)} ${d.description}${mounts}${hidden}`);
          for (const id of d.byId.slice(0, 1)) out.line(`${''.padEnd(14)} /dev/disk/by-id/${id}`);
        }
      } catch (e) {
        process.exitCode = reportError(e, out);
      }
    });
}

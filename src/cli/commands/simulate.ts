import type { Command } from 'commander';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../../boards/catalog.js';
import { openImageFile } from '../../disk/image-file.js';
import { UsageError } from '../../errors.js';
import { EmulatedSdCard } from '../../sim/sd-card/emulated-card.js';
import { servePty } from '../../sim/pty.js';
import { startSimulator, type SimLinkSpec } from '../../sim/simulator.js';
import type { LinkFaults } from '../../sim/link.js';
import { Output, reportError } from '../output.js';

interface SimulateOptions {
  board: string;
  card?: string;
  link: string;
  portLink?: string;
  json?: boolean;
  verbose?: boolean;
  bootMs?: string;
  latency?: string;
  faults?: string;
}

/** "drop=0.001,flip=0.0005,dup=0,seed=7" -> link fault rates (per byte). */
export function parseFaults(text: string): LinkFaults {
  const out: LinkFaults = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [k, v] = part.split('=');
    const n = Number(v);
    const bad = (): UsageError =>
      new UsageError('bad-faults', `"${part}" is not a fault setting`, { hint: 'Use e.g. --faults drop=0.001,flip=0.0005,dup=0.0001,seed=7 (rates per byte, 0..1).' });
    if (v === undefined || !Number.isFinite(n) || n < 0) throw bad();
    if (k === 'seed') out.seed = Math.floor(n);
    else if (n > 1) throw bad();
    else if (k === 'drop') out.dropRate = n;
    else if (k === 'flip') out.flipRate = n;
    else if (k === 'dup') out.duplicateRate = n;
    else throw bad();
  }
  return out;
}

export function parseLink(text: string): SimLinkSpec {
  const m = /^(uart|usb)(?::(\d+))?$/.exec(text.trim().toLowerCase());
  if (!m || (m[1] === 'usb' && m[2])) {
    throw new UsageError('bad-link', `"${text}" is not a link`, { hint: 'Use --link usb or --link uart:<baud>, e.g. uart:250000.' });
  }
  return m[1] === 'usb' ? { kind: 'usb' } : { kind: 'uart', baud: m[2] ? Number(m[2]) : 250000 };
}

/** The card image; a missing one gets a hint in this command's terms. */
function openCardImage(path: string, board: string): ReturnType<typeof openImageFile> {
  try {
    return openImageFile(path);
  } catch (e) {
    if (e instanceof UsageError && e.code === 'image-missing') {
      throw new UsageError('image-missing', `${path} does not exist`, {
        hint: `Make a card image first, e.g. \`fwcard prepare ${path} --size 64M --board ${board} --firmware klipper.bin -y\`.`,
        details: { path },
        cause: e,
      });
    }
    throw e;
  }
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('Run a simulated Klipper board (MCU, SD card, bootloader) behind a pseudo-terminal until interrupted.')
    .requiredOption('--board <name>', 'board from the catalog (`fwcard boards`)')
    .option('--card <image>', 'SD card image file backing the emulated card')
    .option('--link <link>', 'uart:<baud> or usb', 'uart:250000')
    .option('--port-link <path>', 'where to create the serial port symlink')
    .option('--boot-ms <ms>', 'how long a reset keeps the board away')
    .option('--latency <ms>', 'one-way link latency')
    .option('--faults <spec>', 'byte faults on the link, e.g. drop=0.001,flip=0.0005,dup=0,seed=7')
    .option('--json', 'print one JSON document (the port) on stdout once serving')
    .option('-v, --verbose', 'trace the simulator on stderr')
    .addHelpText(
      'after',
      `
Needs socat. Then talk to the printed port as to a real board:
  fwcard simulate --board btt-octopus-f446-v1 --card card.img --port-link /tmp/octopus &
  fwcard mcu-info /tmp/octopus`,
    )
    .action(async (o: SimulateOptions) => {
      const out = new Output({ json: !!o.json, verbose: !!o.verbose });
      try {
        const board = loadCatalog().get(o.board);
        const link = parseLink(o.link);
        const card = o.card ? new EmulatedSdCard({ device: openCardImage(o.card, board.name) }) : undefined;
        const sim = startSimulator({
          board,
          card,
          link,
          bootMs: o.bootMs ? Number(o.bootMs) : undefined,
          latencyMs: o.latency ? Number(o.latency) : undefined,
          faults: o.faults ? parseFaults(o.faults) : undefined,
          trace: o.verbose ? (l) => out.info(`[sim] ${l}`) : undefined,
        });
        const path = o.portLink ?? join(tmpdir(), `fwcard-sim-${board.name}`);
        const server = await servePty(sim, { path, trace: o.verbose ? (l) => out.info(`[pty] ${l}`) : undefined });
        const linkText = link.kind === 'usb' ? 'USB' : `UART ${link.baud} baud`;
        if (out.json) out.result({ ok: true, path, board: board.name, mcu: sim.profile.mcu, link: linkText, card: o.card ?? null, pid: process.pid });
        else {
          out.line(`simulating ${board.name} (${sim.profile.mcu}, ${linkText}${o.card ? `, card ${o.card}` : ', no card'})`);
          out.line(`serial port: ${path}`);
          out.info('press Ctrl-C to stop');
        }
        await new Promise<void>((resolve) => {
          // Serve until a signal, even in moments when no child process or socket is open
          // (socat is restarted while a USB board "re-enumerates").
          const keepAlive = setInterval(() => undefined, 1 << 30);
          const stop = (): void => {
            clearInterval(keepAlive);
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await server.close();
        sim.close();
      } catch (e) {
        process.exitCode = reportError(e, out);
      }
    });
}

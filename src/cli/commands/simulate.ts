import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { UsageError } from '../../errors.js';
import type { LinkFaults } from '../../sim/link.js';
import type { ServedSimulator } from '../../sim/serve.js';
import type { SimLinkSpec } from '../../sim/simulator.js';
import { action } from '../action.js';
import { KLIPPER_DEFAULT_BAUD, addCommonOptions, parseCommon, stringOption, type CommonOptions, type RawOptions } from '../options.js';
import type { Output } from '../output.js';

interface SimulateOptions {
  board: string;
  card: string | undefined;
  /** Undefined: the board's own link (USB, or a UART at 250000 baud). */
  link: SimLinkSpec | undefined;
  portLink: string | undefined;
  bootMs: number | undefined;
  latencyMs: number | undefined;
  faults: LinkFaults | undefined;
  common: CommonOptions;
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
  return m[1] === 'usb' ? { kind: 'usb' } : { kind: 'uart', baud: m[2] ? Number(m[2]) : KLIPPER_DEFAULT_BAUD };
}

/** A number of milliseconds, or undefined when not given (the simulator's default). */
const msOption = (v: unknown): number | undefined => (v ? Number(v) : undefined);

const parse = (_args: [], raw: RawOptions): SimulateOptions => ({
  board: String(raw.board),
  card: stringOption(raw.card),
  link: raw.link ? parseLink(String(raw.link)) : undefined,
  portLink: stringOption(raw.portLink),
  bootMs: msOption(raw.bootMs),
  latencyMs: msOption(raw.latency),
  faults: raw.faults ? parseFaults(String(raw.faults)) : undefined,
  common: parseCommon(raw),
});

async function run(o: SimulateOptions, out: Output): Promise<void> {
  const { serveSimulator } = await import('../../sim/serve.js');
  const verbose = o.common.verbose;
  const link = o.link ?? (await boardDefaultLink(o.board));
  const served = await serveSimulator({
    board: o.board,
    cardImage: o.card,
    link,
    portPath: o.portLink,
    bootMs: o.bootMs,
    latencyMs: o.latencyMs,
    faults: o.faults,
    ...(verbose ? { trace: (l: string) => out.info(`[sim] ${l}`), ptyTrace: (l: string) => out.info(`[pty] ${l}`) } : {}),
  });
  // Listen before announcing the port: until a SIGUSR1 listener exists, Node starts its inspector on that signal.
  const stopControls = powerCycleControls(served, out);
  const linkText = link.kind === 'usb' ? 'USB' : `UART ${link.baud} baud`;
  if (out.json) out.result({ ok: true, path: served.path, board: served.board, mcu: served.mcu, link: linkText, card: o.card ?? null, pid: process.pid });
  else {
    out.line(`simulating ${served.board} (${served.mcu}, ${linkText}${o.card ? `, card ${o.card}` : ', no card'})`);
    out.line(`serial port: ${served.path}`);
    out.info('press Ctrl-C to stop; SIGUSR1 or a "power-cycle" line on stdin cuts and restores power');
  }
  await untilSignal();
  stopControls();
  await served.close();
}

/** The link the board's Klipper build uses (src/sim/board-link.ts), Klipper's default baud on a UART. */
async function boardDefaultLink(name: string): Promise<SimLinkSpec> {
  const [{ loadCatalog }, { boardLink }] = await Promise.all([import('../../boards/catalog.js'), import('../../sim/board-link.js')]);
  return boardLink(loadCatalog().get(name)) === 'usb' ? { kind: 'usb' } : { kind: 'uart', baud: KLIPPER_DEFAULT_BAUD };
}

/**
 * Power cycling from outside: SIGUSR1, or a line "power-cycle" on stdin. An SDIO bootloader
 * (Octopus) reads the card only after power was cut, so this completes that flow.
 */
function powerCycleControls(served: ServedSimulator, out: Output): () => void {
  const cycle = (): void => {
    out.info('power cycle');
    served.powerCycle().then(
      (ev) => out.info(`power restored: ${ev.outcome.kind === 'skipped' ? `bootloader skipped (${ev.outcome.reason})` : `bootloader ${ev.outcome.kind}`}`),
      (e: unknown) => out.info(`power cycle failed: ${(e as Error).message}`),
    );
  };
  process.on('SIGUSR1', cycle);
  const rl = !process.stdin.readable ? undefined : createInterface({ input: process.stdin });
  rl?.on('line', (l) => {
    if (l.trim() === 'power-cycle') cycle();
    else if (l.trim()) out.info(`unknown control "${l.trim()}" (known: power-cycle)`);
  });
  return () => {
    process.off('SIGUSR1', cycle);
    rl?.close();
    process.stdin.destroy();
  };
}

/** Resolve on SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
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
}

export function register(program: Command): void {
  const cmd = program
    .command('simulate')
    .description('Run a simulated Klipper board (MCU, SD card, bootloader) behind a pseudo-terminal until interrupted.')
    .requiredOption('--board <name>', 'board from the catalog (`fwcard boards`)')
    .option('--card <image>', 'SD card image file backing the emulated card')
    .option('--link <link>', `uart:<baud> or usb (default: the board's own link; uart means uart:${KLIPPER_DEFAULT_BAUD})`)
    .option('--port-link <path>', "where to create the serial port symlink (a path that does not exist yet; a killed simulator's stale link is replaced, anything else is refused)")
    .option('--boot-ms <ms>', 'how long a reset keeps the board away')
    .option('--latency <ms>', 'one-way link latency')
    .option('--faults <spec>', 'byte faults on the link, e.g. drop=0.001,flip=0.0005,dup=0,seed=7');
  addCommonOptions(cmd, { json: 'print one JSON document (the port) on stdout once serving', verbose: 'trace the simulator on stderr' })
    .addHelpText(
      'after',
      `
Needs socat. Then talk to the printed port as to a real board:
  fwcard simulate --board btt-octopus-f446-v1 --card card.img --port-link /tmp/octopus &
  fwcard mcu-info /tmp/octopus
Power cycle the board (an SDIO bootloader such as the Octopus's reads the card only then):
  kill -USR1 <pid>        or a line "power-cycle" on the simulator's stdin`,
    )
    .action(action(parse, run));
}

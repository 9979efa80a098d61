import { loadCatalog } from '../boards/catalog.js';
import type { Board } from '../boards/types.js';
import type { BlockDevice } from '../disk/block-device.js';
import { UsageError, advice } from '../errors.js';
import { noProgress, type ProgressListener, type Trace } from '../progress.js';
import { cardFacts, type SdCardFacts } from '../sdcard/card-facts.js';
import { SdBlockDevice } from '../sdcard/sd-block-device.js';
import { acquireLock } from '../util/lock.js';
import { checkCard, type CheckResult, type InBoard } from './check.js';
import { readFirmwareFile } from './firmware-file.js';
import { checkMcu } from './flash-sdcard/build.js';
import { busLabel, openCardBus } from './flash-sdcard/card-bus.js';
import { closingAfter } from './flash-sdcard/card-session.js';
import { serialTransport, type TransportFactory } from './flash-sdcard/connect.js';
import { McuLink } from './flash-sdcard/link.js';
import { linkTraffic, type LinkSnapshot } from './flash-sdcard/link-stats.js';
import type { UploadLinkStats } from './flash-sdcard/types.js';

/** Klipper's default UART speed (flash-sdcard's -b default). */
const DEFAULT_BAUD = 250000;

export interface CheckOverMcuOptions {
  /** The board's serial port, as the user typed it. */
  port: string;
  /** Required: it names the bus and pins the MCU reaches the card with. */
  board?: string;
  baud?: number;
  /** -s: 4 MHz SPI instead of 400 kHz. */
  fastSpi?: boolean;
  boardsFile?: string;
  /** Local firmware file the card should hold. */
  firmware?: string;
  transport?: TransportFactory;
  /** How long to keep trying to connect (default 60 s, as flash-sdcard). */
  connectTimeoutMs?: number;
  onProgress?: ProgressListener;
  trace?: Trace;
  signal?: AbortSignal;
}

/** What the MCU side of the check saw. */
export interface McuCheckFacts {
  port: string;
  /** The MCU Klipper reports (e.g. stm32f446xx) and the version it runs. */
  mcu: string;
  version: string | null;
  /** How the MCU reaches the card, as words ("SPI (ssp0)", "SDIO"). */
  bus: string;
  /** -b as used (a USB link ignores it). */
  baud: number;
  card: SdCardFacts;
  /** Serial traffic of the check itself (opening the card and reading it), for bug reports and the bench. */
  serial: UploadLinkStats | null;
}

export interface CheckOverMcuResult extends CheckResult {
  mcu: McuCheckFacts;
}

/** The board named for a check over its MCU: it must say how its MCU reaches the card. */
function boardForPort(o: CheckOverMcuOptions): Board {
  if (!o.board) {
    throw new UsageError('port-needs-board', `${o.port} is a serial port: to check the card in a board through its MCU, fwcard needs to know the board`, {
      ...advice`Name the board: ${{ argv: ['fwcard', 'check', o.port, '--board', '<board>'], why: 'reads the card through the MCU, writing nothing' }} (${{ argv: ['fwcard', 'flash-sdcard', '-l'], why: 'lists the boards whose MCU can read their card' }} lists the boards whose MCU can read their card). To check a card in a card reader, give its device (e.g. /dev/sdb) instead.`,
      details: { port: o.port },
    });
  }
  const board = loadCatalog(o.boardsFile ? { boardsFile: o.boardsFile } : {}).get(o.board);
  if (!board.klipper) {
    throw new UsageError('no-flash-sdcard-definition', `${board.name} has no flash-sdcard definition (how its MCU reaches the SD card is not known), so its card cannot be read through ${o.port}`, {
      hint: `Take the card out and check it in a card reader: \`fwcard check /dev/sdX --board ${board.name}\`, or add the bus and pins in a --boards-file.`,
    });
  }
  return board;
}

/** The flags the user gave, repeated in the hints' flash-sdcard commands. */
function connectionFlags(o: CheckOverMcuOptions): string[] {
  return [...(o.fastSpi ? ['-s'] : []), ...(o.baud !== undefined && o.baud !== DEFAULT_BAUD ? ['-b', String(o.baud)] : []), ...(o.boardsFile ? ['--boards-file', o.boardsFile] : [])];
}

/**
 * `fwcard check <serial port> --board B`: the card check of a PC, through the board's MCU.
 * Connect as flash-sdcard does (lock the port, reset a configured MCU so it takes the SD bus's
 * configuration), open the card read-only over SPI or SDIO, judge it with the board's rules
 * (checkCard reads only the sectors it needs: tens of KiB on any card size), and always leave
 * the MCU reset, as Klipper's flash script does after its check: the SD bus configuration is
 * not Klipper's printer configuration, and the host must find an unconfigured MCU.
 */
export async function checkCardOverMcu(o: CheckOverMcuOptions): Promise<CheckOverMcuResult> {
  const started = Date.now();
  const board = boardForPort(o);
  const fw = o.firmware ? readFirmwareFile(o.firmware) : null;
  const given = fw ? { path: o.firmware!, bytes: fw.bytes } : null;
  const inBoard: InBoard = { port: o.port, board: o.board!, flags: connectionFlags(o) };
  const progress = o.onProgress ?? noProgress;
  const baud = o.baud ?? DEFAULT_BAUD;
  const link = new McuLink({
    device: o.port, baud, transport: o.transport ?? serialTransport, connectTimeoutMs: o.connectTimeoutMs ?? 60_000, reconnectTimeoutMs: 30_000,
    onProgress: progress, ...(o.trace ? { trace: o.trace } : {}), ...(o.signal ? { signal: o.signal } : {}),
  });
  const lock = acquireLock(o.port, 'serial port');
  let configured = false;
  try {
    return await closingAfter(
      async () => {
        await link.connect();
        checkMcu({ board, buildMcu: null }, link.mcu, o.port);
        await link.restartIfConfigured();
        const session = link.session;
        const snapshot = (bus: { answered: number; unanswered: number }): LinkSnapshot => ({ serial: session.stats, bus });
        const before = snapshot({ answered: 0, unanswered: 0 });
        progress({ phase: 'card-init', label: `initialising the SD card over ${busLabel(board)}` });
        configured = true;
        const bus = await openCardBus(session, board, { fastSpi: !!o.fastSpi, ...(o.trace ? { trace: o.trace } : {}) });
        const dev = stoppable(await SdBlockDevice.open(bus.host, { readOnly: true, name: `the card in ${board.name}` }), o.signal);
        const card = cardFacts(dev.sd.info);
        progress({ phase: 'card-init', label: `card: ${card.type} ${(card.capacityBytes / 1e9).toFixed(1)} GB`, done: true });
        progress({ phase: 'check', label: 'reading the partition table, the boot sector and the firmware folder' });
        const report = await closingAfter(() => checkCard(dev, { board, firmware: given, target: o.port, inBoard, ...(o.board ? { boardAs: o.board } : {}) }), () => dev.close());
        progress({ phase: 'check', label: `read ${report.bytesRead} bytes`, done: true });
        const mcu: McuCheckFacts = { port: o.port, mcu: link.mcu, version: link.version, bus: busLabel(board), baud, card, serial: linkTraffic(before, snapshot(bus.counters())) };
        return { ...report, target: o.port, seconds: (Date.now() - started) / 1000, mcu };
      },
      () => leaveMcu(link, configured),
    );
  } catch (e) {
    // A wait the stop ended (the connect retries) rejects with the signal's reason.
    if (o.signal?.aborted && (e as Error)?.name === 'AbortError') throw stopped('while connecting to the board', e);
    throw e;
  } finally {
    lock.release();
  }
}

/** Ctrl-C (the CLI aborts `signal`): the check writes nothing, so it stops at the next sector read. */
function stopped(where: string, cause?: unknown): UsageError<'interrupted'> {
  return new UsageError('interrupted', `stopped (Ctrl-C) ${where}: nothing was written to the card`, {
    hint: 'Run the same command again to check the card.',
    details: { state: 'untouched', where },
    exitCode: 130,
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** The card as a BlockDevice that stops before each read once a stop was asked for; `sd` is the card itself. */
function stoppable(sd: SdBlockDevice, signal: AbortSignal | undefined): BlockDevice & { sd: SdBlockDevice } {
  return {
    sd,
    name: sd.name,
    sectorSize: sd.sectorSize,
    sectorCount: sd.sectorCount,
    readOnly: true,
    read: (lba, count) => (signal?.aborted ? Promise.reject(stopped('while reading the card')) : sd.read(lba, count)),
    write: (lba, data) => sd.write(lba, data),
    flush: () => sd.flush(),
    close: () => sd.close(),
  };
}

/**
 * Reset the MCU once the SD bus was configured on it (Klipper's flash script resets after its
 * check too), and let go of the port. A board that reboots while nobody listens is harmless;
 * one left configured for the SD bus makes Klipper's host refuse it until a FIRMWARE_RESTART.
 */
async function leaveMcu(link: McuLink, configured: boolean): Promise<void> {
  let session;
  try {
    session = link.session;
  } catch {
    return; // never connected
  }
  if (configured) await session.reset().catch(() => undefined);
  await link.close();
}

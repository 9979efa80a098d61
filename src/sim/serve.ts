import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalog } from '../boards/catalog.js';
import type { Board } from '../boards/types.js';
import { openImageFile } from '../disk/image-file.js';
import { UsageError } from '../errors.js';
import { EmulatedSdCard } from './sd-card/emulated-card.js';
import type { LinkFaults } from './link.js';
import { servePty } from './pty.js';
import { startSimulator, type BootEvent, type SimLinkSpec } from './simulator.js';

export interface ServeOptions {
  /** Board catalog name or a resolved board. */
  board: string | Board;
  /** SD card image file backing the emulated card; none: the board has no card. */
  cardImage?: string;
  link: SimLinkSpec;
  /** Where the serial port symlink goes; default a per-board name in the temp folder. */
  portPath?: string;
  bootMs?: number;
  latencyMs?: number;
  faults?: LinkFaults;
  /** Simulator trace lines. */
  trace?: (line: string) => void;
  /** Pseudo-terminal trace lines (socat starts and stops). */
  ptyTrace?: (line: string) => void;
}

/** A simulated board being served behind a pseudo-terminal. */
export interface ServedSimulator {
  /** The serial port path to open, as for a real board. */
  path: string;
  board: string;
  /** Klipper's MCU name of the simulated chip. */
  mcu: string;
  /** Cut the board's power and restore it (the bootloader runs, an SDIO one included). */
  powerCycle(): Promise<BootEvent>;
  /** Stop serving: socat, then the simulator. */
  close(): Promise<void>;
}

/** The card image; a missing one gets a hint saying how to make one. */
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

/**
 * Start a simulated board (MCU, link, card, bootloader) and serve it behind a pseudo-terminal
 * (`fwcard simulate`), so any program that opens a serial port talks to it unchanged.
 */
export async function serveSimulator(opts: ServeOptions): Promise<ServedSimulator> {
  const board = typeof opts.board === 'string' ? loadCatalog().get(opts.board) : opts.board;
  const card = opts.cardImage ? new EmulatedSdCard({ device: openCardImage(opts.cardImage, board.name) }) : undefined;
  const sim = startSimulator({ board, card, link: opts.link, bootMs: opts.bootMs, latencyMs: opts.latencyMs, faults: opts.faults, trace: opts.trace });
  const path = opts.portPath ?? join(tmpdir(), `fwcard-sim-${board.name}`);
  let server: Awaited<ReturnType<typeof servePty>>;
  try {
    server = await servePty(sim, { path, trace: opts.ptyTrace });
  } catch (e) {
    sim.close();
    throw e;
  }
  return {
    path,
    board: board.name,
    mcu: sim.profile.mcu,
    powerCycle: () => sim.powerCycle(),
    close: async () => {
      await server.close();
      sim.close();
    },
  };
}

/**
 * `fwcard prepare` without a target or without --board: on a terminal, pick them; otherwise
 * (a pipe, a script, CI) an error naming the argument or flag to pass. Never asks without a TTY.
 */
import type { Drive } from '../../disk/drives.js';
import { UsageError } from '../../errors.js';
import { canAsk, isPromptCancel, promptCancelled } from './terminal.js';

export interface PrepareArgs {
  targets: string[];
  board?: string;
  boardsFile?: string;
  /** The firmware file: the board picker offers the boards it was built for first. */
  firmware?: string;
}

export interface PickerDeps {
  interactive: boolean;
  drives: () => Promise<Drive[]>;
  pickDrive: (drives: Drive[]) => Promise<string>;
  pickBoard: (boardsFile?: string, firmware?: string) => Promise<string>;
}

// The pickers, the drive listing and the catalog are loaded only when a question is asked:
// @inquirer/prompts alone takes ~150 ms to load, which every `prepare` with arguments would pay.
const realDeps = (): PickerDeps => ({
  interactive: canAsk(),
  drives: async () => (await import('../../disk/drives.js')).listDrives(),
  pickDrive: async (drives) => (await import('./drive-picker.js')).pickDrive(drives),
  pickBoard: pickBoardFor,
});

/** The board picker over the catalog (with --boards-file), narrowed by the firmware when it tells its MCU. */
export async function pickBoardFor(boardsFile?: string, firmware?: string): Promise<string> {
  const [{ pickBoard }, { loadCatalog }, { firmwareFileFit }] = await Promise.all([import('./board-picker.js'), import('../../boards/catalog.js'), import('./firmware-match.js')]);
  return pickBoard(loadCatalog(boardsFile ? { boardsFile } : {}), firmwareFileFit(firmware));
}

export async function completePrepareArgs(given: PrepareArgs, picker?: PickerDeps): Promise<{ targets: string[]; board: string }> {
  const noTarget = given.targets.length === 0;
  const noBoard = !given.board;
  if (!noTarget && !noBoard) return { targets: given.targets, board: given.board! };
  // Only now: asking whether stdin is a terminal sets up the stdin stream (~10 ms).
  const deps = picker ?? realDeps();
  if (!deps.interactive) {
    const missing = [noTarget ? 'the card (or image file)' : '', noBoard ? '--board <name>' : ''].filter(Boolean).join(' and ');
    throw new UsageError(noTarget ? 'missing-target' : 'missing-board', `prepare needs ${missing}; there is no terminal to ask on`, {
      hint: [
        noTarget ? 'Give the card as the first argument, e.g. `fwcard prepare /dev/sdX …` (`fwcard drives` lists them) or an image file with --size.' : '',
        noBoard ? 'Pass --board <name> (`fwcard boards <words>` searches the catalog).' : '',
      ]
        .filter(Boolean)
        .join(' '),
      details: { missing: [...(noTarget ? ['target'] : []), ...(noBoard ? ['--board'] : [])] },
    });
  }
  try {
    const targets = noTarget ? [await deps.pickDrive(await deps.drives())] : given.targets;
    const board = noBoard ? await deps.pickBoard(given.boardsFile, given.firmware) : given.board!;
    return { targets, board };
  } catch (e) {
    if (isPromptCancel(e)) throw promptCancelled(e);
    throw e;
  }
}

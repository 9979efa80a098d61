/**
 * `fwcard doctor` without --board: on a terminal, pick the board (narrowed by --firmware when
 * it tells its MCU); otherwise — a pipe, a script, or --json, whose reader is a program — a
 * usage error naming --board and `fwcard boards`. Never asks without a TTY.
 */
import { UsageError } from '../../errors.js';
import { canAsk } from './terminal.js';

export interface DoctorBoardArgs {
  board?: string;
  boardsFile?: string;
  firmware?: string;
  json: boolean;
}

export interface DoctorBoardDeps {
  interactive: boolean;
  pickBoard: (boardsFile?: string, firmware?: string) => Promise<string>;
}

const realDeps = (): DoctorBoardDeps => ({
  interactive: canAsk(),
  pickBoard: async (boardsFile, firmware) => (await import('./prepare-args.js')).pickBoardFor(boardsFile, firmware),
});

export async function completeDoctorBoard(given: DoctorBoardArgs, picker?: DoctorBoardDeps): Promise<string> {
  if (given.board) return given.board;
  const deps = picker ?? realDeps();
  if (given.json || !deps.interactive) {
    throw new UsageError('missing-board', `doctor needs --board <name>; ${given.json ? '--json never asks' : 'there is no terminal to ask on'}`, {
      hint: 'Pass --board <name>: `fwcard boards` lists the boards fwcard knows, `fwcard boards <words>` searches them (e.g. `fwcard boards octopus`).',
      details: { missing: ['--board'] },
    });
  }
  // A cancelled picker is already the `cancelled` usage error (asking()).
  return deps.pickBoard(given.boardsFile, given.firmware);
}

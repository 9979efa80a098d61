import type { Command } from 'commander';
import { register as prepare } from './prepare.js';
import { register as drives } from './drives.js';
import { register as boards } from './boards.js';
import { register as inspect } from './inspect.js';

/** One entry per command file; each registers itself on the program. */
export type Register = (program: Command) => void;

export const commands: Register[] = [
  prepare,
  drives,
  boards,
  inspect,
];

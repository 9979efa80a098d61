import type { Command } from 'commander';
import { register as prepare } from './prepare.js';
import { register as drives } from './drives.js';
import { register as boards } from './boards.js';
import { register as inspect } from './inspect.js';
import { register as mcuInfo } from './mcu-info.js';
import { register as simulate } from './simulate.js';
import { register as check } from './check.js';
import { register as flashSdcard } from './flash-sdcard.js';
import { register as doctor } from './doctor.js';
import { register as completion } from './completion.js';

/** One entry per command file; each registers itself on the program. */
export type Register = (program: Command) => void;

export const commands: Register[] = [
  prepare,
  drives,
  boards,
  inspect,
  mcuInfo,
  simulate,
  check,
  flashSdcard,
  doctor,
  completion,
];

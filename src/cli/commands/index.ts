import type { Command } from 'commander';

/** Each command file exports a `register(program)` that declares the command on the program. */
export type Register = (program: Command) => void;

/**
 * The command table, in the order `fwcard --help` lists them. A command's module is imported
 * only when the command line needs it, so `fwcard prepare` does not load the other nine and
 * `fwcard --version` loads none (start-up is what every invocation pays).
 */
const table: Record<string, () => Promise<{ register: Register }>> = {
  prepare: () => import('./prepare.js'),
  drives: () => import('./drives.js'),
  boards: () => import('./boards.js'),
  inspect: () => import('./inspect.js'),
  'mcu-info': () => import('./mcu-info.js'),
  simulate: () => import('./simulate.js'),
  check: () => import('./check.js'),
  'flash-sdcard': () => import('./flash-sdcard.js'),
  doctor: () => import('./doctor.js'),
  scan: () => import('./scan.js'),
  completion: () => import('./completion.js'),
};

export const commandNames: readonly string[] = Object.keys(table);

/**
 * The commands a command line needs: the one it names; none for the program's --version;
 * all of them for help, a mistyped name (commander suggests the closest) and `completion`
 * (its script describes every command).
 */
export function commandsNeeded(args: string[]): readonly string[] {
  const first = args.find((a) => !a.startsWith('-'));
  if (first !== undefined && first !== 'completion' && first in table) return [first];
  const help = args.some((a) => a === '-h' || a === '--help');
  if (first === undefined && !help && args.some((a) => a === '-V' || a === '--version')) return [];
  return commandNames;
}

/** The registers of these commands, in table order. */
export async function loadCommands(names: readonly string[]): Promise<Register[]> {
  const wanted = commandNames.filter((n) => names.includes(n));
  return (await Promise.all(wanted.map((n) => table[n]!()))).map((m) => m.register);
}

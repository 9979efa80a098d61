import { commandLine, remedyCommands, type Remedy } from '../../errors.js';
import { wrap } from '../wrap.js';

/**
 * A hint and the commands of its remedy, laid out for the terminal: the prose wrapped, each
 * long command (as the hint names it, backticked) on a line of its own after `$ `, whole. A
 * remedy command the hint's words do not name still gets its line, after the prose: the
 * remedy, not the prose, is what says which commands fix it.
 */
export function adviceLines(hint: string, remedy: Remedy | undefined, o: { first: string; rest: string; width?: number }): string[] {
  const commands = remedyCommands(remedy).map(commandLine);
  const lines = wrap(hint, { ...o, commands });
  for (const c of commands) if (!hint.includes(`\`${c}\``)) lines.push(`${o.rest}$ ${c}`);
  return lines;
}

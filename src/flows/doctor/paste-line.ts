import { shellWord } from '../../errors.js';

/**
 * A command line as the user pastes it. Like `commandLine`, but a leading `~/` stays bare so
 * the shell expands it (a quoted `'~/klipper/…'` names a folder called `~`).
 */
export function pasteLine(argv: string[]): string {
  return argv.map((w) => (w.startsWith('~/') && shellWord(w.slice(2)) === w.slice(2) ? w : shellWord(w))).join(' ');
}

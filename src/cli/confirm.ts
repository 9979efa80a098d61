import { SafetyError } from '../errors.js';
import { isPromptCancel, promptCancelled } from './interactive/terminal.js';

/**
 * Ask "type yes" on the terminal. Never interactive without a TTY: then the caller must have
 * passed --yes, or we refuse with the flag to pass. Ctrl-C or Ctrl-D at the question throws
 * the `cancelled` usage error (exit 2): the question comes before anything is written.
 */
export async function confirmDestructive(question: string, opts: { yes?: boolean; flag?: string; action?: string; note?: string } = {}): Promise<boolean> {
  if (opts.yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    // `action` says what would happen (erase, or only replace a file): "erase" for a run that
    // would erase nothing sent users looking for what they were about to lose.
    throw new SafetyError('confirmation-needed', `refusing to ${opts.action ?? 'erase'} without confirmation: no terminal to ask on`, {
      hint: `${opts.note ? `${opts.note} ` : ''}Pass ${opts.flag ?? '--yes'} to confirm non-interactively (check the target with --dry-run first).`,
    });
  }
  // Loaded only when asking: a run with --yes (scripts, batches) never needs readline.
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Esc cancels too, as in the pickers: the question is then aborted (AbortError, below).
  const esc = new AbortController();
  const onKey = (_: unknown, key: { name?: string } | undefined): void => {
    if (key?.name === 'escape') esc.abort();
  };
  process.stdin.on('keypress', onKey);
  try {
    const answer = await rl.question(`${question}\nType "yes" to continue: `, { signal: esc.signal });
    return answer.trim().toLowerCase() === 'yes';
  } catch (e) {
    // Ctrl-C and Ctrl-D both close the interface, and the waiting question rejects (AbortError).
    if (!isPromptCancel(e)) throw e;
    // End the prompt's line, so that the message starts on its own.
    process.stderr.write('\n');
    throw promptCancelled(e);
  } finally {
    process.stdin.off('keypress', onKey);
    rl.close();
  }
}

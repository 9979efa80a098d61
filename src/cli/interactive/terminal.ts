import { UsageError } from '../../errors.js';

/**
 * When fwcard may ask: only with a terminal on both ends (stdin to read keys, stderr to draw
 * on; stdout stays free for --json). Pipes, cron and CI never get a prompt.
 */
export function canAsk(): boolean {
  return !!process.stdin.isTTY && !!process.stderr.isTTY;
}

/** A choice on one line of the terminal (after inquirer's 2-column cursor): a wrapped choice breaks the list's layout. */
export const clip = (s: string, width = (process.stderr.columns || 80) - 3): string => (s.length > width ? `${s.slice(0, width - 1)}…` : s);

/** Where the prompts read and draw; `signal` ends the prompt (Esc, see asking()). */
export const promptContext = (signal?: AbortSignal) => ({ input: process.stdin, output: process.stderr, ...(signal ? { signal } : {}) });

/**
 * A prompt ended by Ctrl-C or Ctrl-D: inquirer rejects with ExitPromptError (AbortPromptError
 * when aborted by a signal), node's readline/promises with AbortError (its interface closes on
 * both keys while a question waits).
 */
export function isPromptCancel(e: unknown): boolean {
  const name = (e as Error)?.name;
  return name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'AbortError';
}

/**
 * The error every prompt raises when the user cancels it: a usage error (exit 2), rendered like
 * any other, never the "internal error" of an unexpected rejection. Every prompt is asked before
 * anything is written, so the message can say so.
 */
export function promptCancelled(cause: unknown): UsageError<'cancelled'> {
  return new UsageError('cancelled', 'cancelled: nothing was written', {
    hint: 'Run the command again when you are ready; --dry-run shows what it would do without asking.',
    cause,
  });
}

/**
 * Run a prompt; Ctrl-C, Ctrl-D or Esc in it becomes promptCancelled(). Inquirer has no key for
 * "cancel": Esc aborts the signal given to the prompt (readline emits it ~0.5 s after the key,
 * when no escape sequence follows).
 */
export async function asking<T>(prompt: (context: ReturnType<typeof promptContext>) => Promise<T>): Promise<T> {
  const esc = new AbortController();
  const onKey = (_: unknown, key: { name?: string } | undefined): void => {
    if (key?.name === 'escape') esc.abort(new Error('Esc'));
  };
  process.stdin.on('keypress', onKey);
  try {
    return await prompt(promptContext(esc.signal));
  } catch (e) {
    if (isPromptCancel(e)) throw promptCancelled(e);
    throw e;
  } finally {
    process.stdin.off('keypress', onKey);
  }
}

/**
 * When fwcard may ask: only with a terminal on both ends (stdin to read keys, stderr to draw
 * on; stdout stays free for --json). Pipes, cron and CI never get a prompt.
 */
export function canAsk(): boolean {
  return !!process.stdin.isTTY && !!process.stderr.isTTY;
}

/** Where the prompts read and draw. */
export const promptContext = () => ({ input: process.stdin, output: process.stderr });

/** Inquirer rejects with ExitPromptError on Ctrl-C / Ctrl-D. */
export function isPromptCancel(e: unknown): boolean {
  return (e as Error)?.name === 'ExitPromptError' || (e as Error)?.name === 'AbortPromptError';
}

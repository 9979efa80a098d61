import { SafetyError } from '../errors.js';

/**
 * Ask "type yes" on the terminal. Never interactive without a TTY: then the caller must have
 * passed --yes, or we refuse with the flag to pass.
 */
export async function confirmDestructive(question: string, opts: { yes?: boolean; flag?: string } = {}): Promise<boolean> {
  if (opts.yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new SafetyError('confirmation-needed', 'refusing to erase without confirmation: no terminal to ask on', {
      hint: `Pass ${opts.flag ?? '--yes'} to confirm non-interactively (check the target with --dry-run first).`,
    });
  }
  // Loaded only when asking: a run with --yes (scripts, batches) never needs readline.
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\nType "yes" to continue: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

import { mkdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where fwcard keeps what must outlive a run and a reboot of the host (records of card updates
 * in progress): $FWCARD_STATE_DIR, else $XDG_STATE_HOME/fwcard, else ~/.local/state/fwcard (the
 * XDG base directory rules' place for state). Lock files live elsewhere (util/lock.ts, in the
 * temporary directory): they mean nothing after a reboot.
 */
export function stateDir(sub: string): string {
  const base = process.env.FWCARD_STATE_DIR ?? join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'fwcard');
  const dir = join(base, sub);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  } catch {
    // A home without a writable state directory (a service account): the temporary directory
    // still survives the killed run, which is what the records are mostly for.
    const fallback = join(tmpdir(), `fwcard-state-${process.getuid?.() ?? 'user'}`, sub);
    mkdirSync(fallback, { recursive: true, mode: 0o700 });
    return fallback;
  }
}

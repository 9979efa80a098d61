import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

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

/**
 * Write a state record so that after a crash or power loss it is either the old one or the whole
 * new one: a temporary file written and fsynced, renamed over `path`, the directory fsynced.
 * Throws the file system's error (callers wrap it in their own typed error).
 */
export function writeDurably(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dirname(path));
}

/** Remove a state record (a missing one is fine) and make the removal durable. */
export function removeDurably(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  syncDir(dirname(path));
}

function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still ordered after the data.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

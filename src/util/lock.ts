import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { SafetyError } from '../errors.js';

/**
 * One fwcard at a time per card, image or serial port: a lock file created with O_EXCL holding
 * the owner's pid. A lock whose owner is gone (killed, crashed) is taken over.
 */
export interface Lock {
  release(): void;
}

function lockDir(): string {
  const dir = process.env.FWCARD_LOCK_DIR ?? join(tmpdir(), 'fwcard-locks');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // Not there yet (a new image): lock the name it will have.
    try {
      return join(realpathSync(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Where the lock for `target` lives. */
export function lockFileFor(target: string): { key: string; file: string } {
  const key = canonical(target);
  return { key, file: join(lockDir(), createHash('sha256').update(key).digest('hex').slice(0, 24) + '.lock') };
}

export function acquireLock(target: string, what: string): Lock {
  const { key, file } = lockFileFor(target);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      writeSync(fd, `${process.pid}\n${key}\n`);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8').split('\n')[0]);
      } catch {
        /* vanished meanwhile */
      }
      if (Number.isInteger(owner) && owner > 0 && alive(owner) && owner !== process.pid) {
        throw new SafetyError('busy-locked', `another fwcard (pid ${owner}) is using ${key}`, {
          hint: `Wait for it to finish, or stop it (kill ${owner}) if it is stuck. Two writers on one ${what} would corrupt it.`,
          details: { target: key, pid: owner },
        });
      }
      // Stale lock from a process that no longer exists.
      try {
        unlinkSync(file);
      } catch {
        /* raced with another taker */
      }
    }
  }
  throw new SafetyError('busy-locked', `could not lock ${key}`, { hint: 'Try again.' });
}

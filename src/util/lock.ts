import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { SafetyError } from '../errors.js';

/**
 * One fwcard at a time per card, image or serial port: a lock file created with O_EXCL holding
 * the owner's pid and, on Linux, its start time. A lock whose owner is gone (killed, crashed) is
 * taken over — also when its pid now belongs to another process: pids wrap (at 32768 on a Pi),
 * and a killed fwcard's pid reused by anything else would make every later run "busy-locked",
 * with a hint to kill that unrelated process.
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
    return ptyInstance(realpathSync(path));
  } catch {
    // Not there yet (a new image): lock the name it will have.
    try {
      return join(realpathSync(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/**
 * A pseudo-terminal's number is reused as soon as it is closed (a simulator's /dev/pts/3 stopped,
 * the next one started gets /dev/pts/3 again), while a run that used the old one may still be
 * finishing: keyed by the path alone, the new run would be refused as "busy". A pty slave (Unix98
 * majors 136-143) is keyed by its path and the time its node was made, one key per pty. Real
 * serial ports keep the path alone, so a board re-enumerating during a reset stays locked.
 */
function ptyInstance(real: string): string {
  try {
    const st = statSync(real);
    const major = Math.floor(st.rdev / 256) & 0xfff;
    if (st.isCharacterDevice() && major >= 136 && major <= 143) return `${real}#${st.ctimeMs}`;
  } catch {
    // Gone or unreadable: the path is the key.
  }
  return real;
}

/**
 * When `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22), or null where there
 * is no /proc. The command name (field 2) may hold spaces and ")", so fields are counted after
 * its last ")".
 */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the process that wrote a lock (pid, start time if recorded) still running? */
function ownerAlive(pid: number, started: string | null): boolean {
  if (!alive(pid)) return false;
  const now = started ? startTime(pid) : null;
  return now === null || now === started;
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
      writeSync(fd, `${process.pid}\n${key}\n${startTime(process.pid) ?? ''}\n`);
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
      let started: string | null = null;
      try {
        const lines = readFileSync(file, 'utf8').split('\n');
        owner = Number(lines[0]);
        started = lines[2] || null;
      } catch {
        /* vanished meanwhile */
      }
      if (Number.isInteger(owner) && owner > 0 && ownerAlive(owner, started) && owner !== process.pid) {
        throw new SafetyError('busy-locked', `another fwcard (pid ${owner}) is using ${key}`, {
          hint: `Wait for it to finish, or stop it (kill ${owner}) if it is stuck. Two writers on one ${what} would corrupt it.`,
          details: { target: key, pid: owner },
        });
      }
      // Stale lock from a process that no longer exists (or whose pid another process now has).
      try {
        unlinkSync(file);
      } catch {
        /* raced with another taker */
      }
    }
  }
  throw new SafetyError('busy-locked', `could not lock ${key}`, { hint: 'Try again.' });
}

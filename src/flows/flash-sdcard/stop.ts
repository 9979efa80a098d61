import { UsageError } from '../../errors.js';
import type { FatFileSystem } from '../../fat/file-system.js';
import { TEMP_NAME } from '../install-firmware.js';

/**
 * What the card holds at a moment of the run, as a stop (Ctrl-C) would leave it. Each state
 * says what the user has and what completes the update.
 */
export type CardState =
  | { kind: 'untouched' }
  /** FWCARD.TMP written (perhaps not yet read back); `removed`: old names already gone. */
  | { kind: 'temporary'; tmp: string; removed: string[] }
  /** The new firmware is on the card under the name the bootloader takes. */
  | { kind: 'installed'; path: string }
  /** The reset was sent: the bootloader flashes the card's file. */
  | { kind: 'reset'; path: string };

/**
 * A stop asked for (the CLI aborts `signal` on the first Ctrl-C) ends the run at the next safe
 * point: between steps and between the card's file operations — each of those is one whole FAT
 * update (fat/metadata-buffer.ts commits it as a unit, with its host-side record), so a stop
 * never falls between its halves. The waits (connect retries, the reconnect wait) take the
 * signal and end at once. The error says what state the card is in and how to complete it.
 */
export class StopPoints {
  private state: CardState = { kind: 'untouched' };

  constructor(
    readonly signal: AbortSignal | undefined,
    private readonly run: { device: string; board: string },
  ) {}

  get requested(): boolean {
    return !!this.signal?.aborted;
  }

  get card(): CardState {
    return this.state;
  }

  /** A safe point: throw the stop error when a stop was asked for. `where`: e.g. "before the reset". */
  check(where: string): void {
    if (this.requested) throw this.error(where);
  }

  /** What a wait that ended because of the stop, or any error of a stopped run, is reported as. */
  error(where: string, cause?: unknown): UsageError<'interrupted'> {
    const { text, hint } = this.describe();
    return new UsageError('interrupted', `stopped (Ctrl-C) ${where}: ${text}`, {
      hint,
      details: { state: this.state.kind, where },
      exitCode: 130,
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  enter(state: CardState): void {
    this.state = state;
  }

  private describe(): { text: string; hint: string } {
    const s = this.state;
    const check = `the same command with -c added (fwcard flash-sdcard -c … ${this.run.device} ${this.run.board})`;
    switch (s.kind) {
      case 'untouched':
        return { text: 'nothing was written to the card', hint: 'Run the same command again to update the board.' };
      case 'temporary':
        return {
          text: `${s.tmp} was left on the card${s.removed.length ? ` and the old ${s.removed.join(', ')} removed` : ''}; the firmware the board runs is unchanged`,
          hint: `Run the same command again: it removes ${s.tmp} and completes the update.`,
        };
      case 'installed':
        return {
          text: `the new firmware is on the card as ${s.path}; the board flashes it at its next reset or power-up`,
          hint: `Run the same command again to complete the update (upload, reset, verify), or power-cycle the board and run ${check} to check what it runs.`,
        };
      case 'reset':
        return {
          text: `the board was reset to flash ${s.path} from the card; its bootloader may still be flashing it`,
          hint: `Leave the board powered for a minute (or power-cycle it), then run ${check} to check what it runs; running the same command again also completes the update.`,
        };
    }
  }

  /**
   * The card's volume with a safe point before each operation, and the card's state followed
   * from what the upload does (installFirmware: FWCARD.TMP, read back, old names, rename).
   */
  volume(v: FatFileSystem): FatFileSystem {
    const tmpOf = (path: string) => path.split('/').pop() === TEMP_NAME;
    const step = (what: string) => this.check(`before ${what}`);
    return {
      writeFile: async (path, data, onProgress) => {
        step(`writing ${path}`);
        if (tmpOf(path)) this.enter({ kind: 'temporary', tmp: path, removed: [] });
        await v.writeFile(path, data, onProgress);
      },
      readFile: async (path, onProgress) => {
        step(`reading ${path}`);
        return v.readFile(path, onProgress);
      },
      tryStat: (path) => v.tryStat(path),
      list: (dir) => v.list(dir),
      mkdir: async (path) => {
        step(`creating ${path}`);
        await v.mkdir(path);
      },
      rename: async (from, to) => {
        step(`renaming ${from} to ${to}`);
        await v.rename(from, to);
        if (tmpOf(from)) this.enter({ kind: 'installed', path: to });
      },
      unlink: async (path) => {
        step(`removing ${path}`);
        await v.unlink(path);
        const s = this.state;
        if (s.kind === 'temporary' && !tmpOf(path)) this.enter({ ...s, removed: [...s.removed, path] });
        if (s.kind === 'temporary' && tmpOf(path)) this.enter({ kind: 'untouched' });
      },
      info: () => v.info(),
      unmount: () => v.unmount(),
    };
  }
}

/** A pause that ends early (rejecting with the signal's reason) when `signal` is aborted. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = (): void => {
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const t = setTimeout(done, ms);
    const stop = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

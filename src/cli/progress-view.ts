import type { Ora } from 'ora';
import type { ProgressEvent, ProgressListener } from '../progress.js';
import { formatBytes } from '../util/size.js';

export interface ProgressViewOptions {
  quiet?: boolean;
  color?: boolean;
  /** Force plain lines (tests); default: plain when stderr is not a terminal. */
  plain?: boolean;
}

interface PhaseState {
  phase: string;
  label: string;
  started: number;
  lastPrint: number;
  bytes: number;
  total: number | undefined;
}

export function rateText(bytes: number, ms: number): string {
  // Below a millisecond the clock cannot tell a rate.
  if (ms < 1) return 'instant';
  return `${formatBytes(Math.round((bytes * 1000) / ms))}/s`;
}

/** Time a phase must run with bytes done before its rate (and so an ETA) means anything. */
export const MIN_RATE_MS = 500;

/**
 * "label: 42% 17.0 KiB/40.0 KiB 3.10 KiB/s ETA 7.4s". The rate and ETA appear only once bytes
 * have moved for MIN_RATE_MS: at the start they read "instant" and "ETA 0.0s", which is false.
 */
export function progressLine(s: { label: string; bytes: number; total?: number | undefined; elapsedMs: number }): string {
  const known = s.bytes > 0 && s.elapsedMs >= MIN_RATE_MS;
  const rate = known ? (s.bytes * 1000) / s.elapsedMs : 0;
  const speed = known ? ` ${rateText(s.bytes, s.elapsedMs)}` : '';
  if (s.total && s.total > 0) {
    const pct = Math.min(100, Math.floor((s.bytes * 100) / s.total));
    const eta = known && s.bytes < s.total ? ` ETA ${Math.max(0, (s.total - s.bytes) / rate).toFixed(1)}s` : '';
    return `${s.label}: ${pct}% ${formatBytes(s.bytes)}/${formatBytes(s.total)}${speed}${eta}`;
  }
  return s.bytes ? `${s.label}: ${formatBytes(s.bytes)}${speed}` : s.label;
}

type OraFactory = typeof import('ora').default;

/**
 * Renders typed progress events on stderr: an ora spinner with a live progress line on a
 * terminal; on a pipe or log, plain lines without redraws (one when a phase starts, at most one
 * a second while it runs, one when it ends).
 */
export class ProgressView {
  private spinner: Ora | null = null;
  private cur: PhaseState | null = null;
  readonly plain: boolean;

  /** A view for these options; ora (~80 ms to load) is loaded only when a spinner will be drawn. */
  static async create(opts: ProgressViewOptions = {}): Promise<ProgressView> {
    const plain = opts.plain ?? !process.stderr.isTTY;
    const ora = plain || opts.quiet ? undefined : (await import('ora')).default;
    return new ProgressView(opts, ora);
  }

  private constructor(
    private readonly opts: ProgressViewOptions,
    private readonly ora: OraFactory | undefined,
  ) {
    this.plain = !ora || (opts.plain ?? !process.stderr.isTTY);
  }

  readonly listener: ProgressListener = (e: ProgressEvent) => {
    if (this.opts.quiet) return;
    const now = Date.now();
    if (!this.cur || this.cur.phase !== e.phase) {
      this.finishPhase();
      this.cur = { phase: e.phase, label: e.label, started: now, lastPrint: now, bytes: e.bytes ?? 0, total: e.total };
      if (this.plain) process.stderr.write(`${e.label}…\n`);
      else this.spinner = this.ora!({ text: e.label, stream: process.stderr, color: 'cyan', isEnabled: true, ...(this.opts.color === false ? { color: 'white' as const } : {}) }).start();
    }
    const c = this.cur;
    c.bytes = e.bytes ?? c.bytes;
    c.total = e.total ?? c.total;
    c.label = e.label;
    const line = progressLine({ label: c.label, bytes: c.bytes, total: c.total, elapsedMs: now - c.started });
    if (this.plain) {
      if (now - c.lastPrint >= 1000 && !e.done) {
        process.stderr.write(line + '\n');
        c.lastPrint = now;
      }
    } else if (this.spinner) {
      this.spinner.text = line;
    }
    if (e.done) this.finishPhase();
  };

  private finishPhase(): void {
    const c = this.cur;
    if (!c) return;
    const ms = Date.now() - c.started;
    const summary = c.bytes ? `${c.label} — ${formatBytes(c.bytes)} in ${(ms / 1000).toFixed(2)}s (${rateText(c.bytes, ms)})` : `${c.label} — ${(ms / 1000).toFixed(2)}s`;
    if (this.plain) process.stderr.write(summary + '\n');
    else this.spinner?.succeed(summary);
    this.spinner = null;
    this.cur = null;
  }

  /** End the current phase; on failure the spinner is marked failed. */
  stop(failed = false): void {
    if (failed && this.spinner) {
      this.spinner.fail(this.cur?.label ?? 'failed');
      this.spinner = null;
      this.cur = null;
      return;
    }
    this.finishPhase();
  }
}

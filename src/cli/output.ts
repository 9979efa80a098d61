import { isFwcardError } from '../errors.js';
import { adviceLines } from './render/advice.js';
import { wrap } from './wrap.js';

/** Global output options every command accepts. */
export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  log?: string;
}

/**
 * Where a command's words go. With --json, stdout carries exactly one JSON document and all
 * human text goes to stderr; without it, results go to stdout and progress/trace to stderr.
 */
export class Output {
  constructor(readonly opts: OutputOptions) {}

  get json(): boolean {
    return !!this.opts.json;
  }

  /** A line of the human-readable result. */
  line(text = ''): void {
    if (this.opts.quiet && !this.json) return;
    (this.json ? process.stderr : process.stdout).write(text + '\n');
  }

  /** Informational line on stderr (never mixed into --json stdout). */
  info(text: string): void {
    if (this.opts.quiet) return;
    process.stderr.write(text + '\n');
  }

  /** The one JSON document of a --json run. */
  result(doc: unknown): void {
    if (this.json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  }

  color(code: number, text: string): string {
    if (this.opts.color === false || process.env.NO_COLOR || !process.stdout.isTTY) return text;
    return `\x1b[${code}m${text}\x1b[0m`;
  }
}

/** Render an error for humans or as the single JSON document, and return the exit code. */
export function reportError(e: unknown, out: Output): number {
  if (isFwcardError(e)) {
    if (out.json) {
      out.result({ ok: false, error: e.toJSON() });
    } else {
      const lines = wrap(`fwcard: error: ${e.message}`, { first: '', rest: '  ' });
      // The hint's commands go whole on their own lines, ready to paste.
      if (e.hint) lines.push(...adviceLines(e.hint, e.remedy, { first: '  hint: ', rest: '        ' }));
      process.stderr.write(lines.map((l) => l + '\n').join(''));
    }
    return e.exitCode;
  }
  const err = e as Error;
  if (out.json) {
    out.result({ ok: false, error: { code: 'internal', message: String(err?.message ?? e), hint: 'This is a bug in fwcard; please report it with --log output.' } });
  } else {
    process.stderr.write(`fwcard: internal error: ${err?.stack ?? String(e)}\n  hint: this is a bug in fwcard; please report it.\n`);
  }
  return 3;
}

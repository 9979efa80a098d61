/**
 * Text laid out for the terminal: prose wrapped at word boundaries, never inside a word and
 * never inside a backticked command, so that what the user pastes arrives whole. A line is
 * longer than the width only when it holds one thing that cannot be broken (a long path, a
 * URL, a command longer than the screen).
 */

/** Narrower than this, a hanging indent leaves no room for words; lay out as if this wide. */
const MIN_WIDTH = 20;
/** When neither $COLUMNS nor a terminal says otherwise (a pipe, a file, a CI log). */
export const DEFAULT_WIDTH = 80;

/** The width to lay out for: $COLUMNS when set (as shells and `COLUMNS=60 fwcard …` do), the terminal's when stdout is one, else 80. */
export function terminalWidth(env: NodeJS.ProcessEnv = process.env, stdout: { isTTY?: boolean; columns?: number } = process.stdout): number {
  const fromEnv = Number(env.COLUMNS);
  if (env.COLUMNS && Number.isInteger(fromEnv) && fromEnv > 0) return Math.max(fromEnv, MIN_WIDTH);
  if (stdout.isTTY && stdout.columns && stdout.columns > 0) return Math.max(stdout.columns, MIN_WIDTH);
  return DEFAULT_WIDTH;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** Columns a string takes on screen: colour codes take none, every other code point one. */
export function visibleLength(s: string): number {
  let n = 0;
  for (const _ of s.replace(ANSI, '')) n++;
  return n;
}

/**
 * The words of a text. A backticked span is one word with whatever punctuation touches it
 * ("(`fwcard drives`)."), spaces and all: it must not be split.
 */
const WORD = /(?:[^\s`]*`[^`\n]*`)+[^\s`]*|\S+/g;
export const words = (text: string): string[] => text.match(WORD) ?? [];

export interface WrapOptions {
  /** Prefix of the first line (indent, bullet, label). */
  first: string;
  /** Prefix of the following lines; default: spaces as wide as `first`. */
  rest?: string;
  /** Columns; default: terminalWidth(). */
  width?: number;
  /**
   * Commands (as the user types them) that go on a line of their own, `$ ` in front, when
   * they appear backticked in the text and are long (4 words or more) or do not fit the line.
   */
  commands?: readonly string[];
  /** Prefix of a command's own line; default: `rest`. */
  commandIndent?: string;
}

/** A command long enough to be pasted rather than read: it gets its own line. */
const LONG_COMMAND_WORDS = 4;

/**
 * Words into lines of at most `width` columns (a word wider than that alone on its line).
 * Paragraphs (`\n`) start new lines; every line after the first starts with `rest`.
 */
export function wrap(text: string, first: string, rest?: string, width?: number): string[];
export function wrap(text: string, opts: WrapOptions): string[];
export function wrap(text: string, a: string | WrapOptions, rest?: string, width?: number): string[] {
  const o: WrapOptions = typeof a === 'string' ? { first: a, ...(rest !== undefined ? { rest } : {}), ...(width !== undefined ? { width } : {}) } : a;
  return layout(text, o);
}

function layout(text: string, o: WrapOptions): string[] {
  const width = o.width ?? terminalWidth();
  const rest = o.rest ?? ' '.repeat(visibleLength(o.first));
  const commandIndent = o.commandIndent ?? rest;
  const ownLine = new Set(o.commands ?? []);
  const lines: string[] = [];
  let line = o.first;
  let empty = true;
  const flush = (): void => {
    // A prefix with nothing after it ("→ " before a command line) keeps its mark, not its spaces.
    if (!empty || line.trim()) lines.push(empty ? line.trimEnd() : line);
    line = rest;
    empty = true;
  };
  const put = (word: string): void => {
    const over = visibleLength(line) + (empty ? 0 : 1) + visibleLength(word) > width;
    // A word too wide to share a line goes below a label ("K-PR5759:") rather than after it.
    if (over && (!empty || (line !== rest && line.trim()))) flush();
    line += (empty ? '' : ' ') + word;
    empty = false;
  };
  text.split('\n').forEach((paragraph, i) => {
    if (i > 0) flush();
    for (const word of words(paragraph)) {
      const cmd = commandIn(word);
      if (!cmd || !ownLine.has(cmd.command) || !needsOwnLine(cmd, line, empty, rest, width)) {
        put(word);
        continue;
      }
      if (cmd.before) put(cmd.before);
      flush();
      lines.push(`${commandIndent}$ ${cmd.command}`);
      // "`cmd`." ends the sentence with the command: the full stop would only be pasted along.
      if (cmd.after && !/^[.,;:]+$/.test(cmd.after)) put(cmd.after);
    }
  });
  if (!empty || line.trim()) lines.push(empty ? line.trimEnd() : line);
  if (lines.length === 0) lines.push(o.first.trimEnd());
  return lines;
}

/** The one backticked command in a word, with what touches it on either side. */
function commandIn(word: string): { before: string; command: string; after: string } | null {
  const m = /^([^`]*)`([^`]+)`([^`]*)$/.exec(word);
  return m ? { before: m[1]!, command: m[2]!, after: m[3]! } : null;
}

function needsOwnLine(cmd: { before: string; command: string; after: string }, line: string, empty: boolean, rest: string, width: number): boolean {
  if (cmd.command.split(/\s+/).length >= LONG_COMMAND_WORDS) return true;
  const word = `${cmd.before}\`${cmd.command}\`${cmd.after}`;
  const fitsHere = visibleLength(line) + (empty ? 0 : 1) + visibleLength(word) <= width;
  return !fitsHere && visibleLength(rest) + visibleLength(word) > width;
}

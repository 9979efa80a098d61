import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError, fromSystemError } from '../errors.js';
import type { Board } from './types.js';
import { BUILTIN_BOARDS } from './data/index.js';
import { parseBoardsFile } from './user-boards.js';
import { editDistance } from '../util/edit-distance.js';

/**
 * Board lookup over the built-in catalog plus any user entries. Names and aliases are
 * matched case-insensitively (Klipper's lookup_board lowercases too).
 */
export class Catalog {
  private readonly byName = new Map<string, Board>();

  constructor(readonly boards: Board[]) {
    for (const b of boards) {
      this.byName.set(b.name.toLowerCase(), b);
      for (const a of b.aliases) this.byName.set(a.toLowerCase(), b);
    }
  }

  all(): Board[] {
    return this.boards;
  }

  find(name: string): Board | undefined {
    return this.byName.get(name.toLowerCase());
  }

  get(name: string): Board {
    const b = this.find(name);
    if (b) return b;
    const close = this.suggest(name);
    throw new UsageError('unknown-board', `unknown board "${name}"`, {
      hint: close.length ? `Did you mean: ${close.join(', ')}? \`fwcard boards\` lists them all.` : '`fwcard boards` lists the boards fwcard knows.',
      details: { board: name, suggestions: close },
    });
  }

  /**
   * Up to `max` known names closest to `name`: substring matches first, then by edit
   * distance to the whole name or to a run of its dash-separated parts ("octopuss" →
   * btt-octopus-…).
   */
  suggest(name: string, max = 5): string[] {
    const q = name.toLowerCase().trim();
    if (!q) return [];
    const qParts = q.split(/[\s_-]+/).filter(Boolean).length;
    const scored: { key: string; score: number }[] = [];
    for (const key of this.byName.keys()) {
      if (key.includes(q) || q.includes(key)) {
        scored.push({ key, score: Math.abs(key.length - q.length) / 100 });
        continue;
      }
      const parts = key.split(/[_-]+/);
      let d = editDistance(q, key);
      for (let n = 1; n <= Math.min(parts.length, qParts + 1); n++) {
        for (let i = 0; i + n <= parts.length; i++) d = Math.min(d, editDistance(q.replace(/[\s_]+/g, '-'), parts.slice(i, i + n).join('-')));
      }
      const limit = Math.max(1, Math.floor(q.length / 4));
      if (d <= limit) scored.push({ key, score: 1 + d });
    }
    scored.sort((a, b) => a.score - b.score || a.key.localeCompare(b.key));
    return scored.slice(0, max).map((s) => s.key);
  }

  /**
   * Boards matching a free-text query: every word must appear in the name, an alias, the
   * vendor, a model name or the MCU (case-insensitive; spaces, dashes and dots ignored).
   */
  search(query: string): Board[] {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean).map(squash);
    if (words.length === 0) return [...this.boards];
    const phrase = words.join('');
    const hits: { b: Board; rank: number }[] = [];
    for (const b of this.boards) {
      const fields = [b.name, ...b.aliases, b.vendor, ...b.models, b.mcu, b.klipper?.mcu ?? ''].map((s) => squash(s.toLowerCase()));
      const hay = fields.join('\n');
      // Boards where the whole query appears in one field come first ("ender 3 v2" → Ender-3 V2).
      if (words.every((w) => hay.includes(w))) hits.push({ b, rank: fields.some((f) => f.includes(phrase)) ? 0 : 1 });
    }
    return hits.sort((x, y) => x.rank - y.rank).map((h) => h.b);
  }
}

const squash = (s: string) => s.replace(/[\s._-]+/g, '');


export interface LoadCatalogOptions {
  /** A JSON file of extra or overriding boards (see docs/boards-file.md and user-boards.ts). */
  boardsFile?: string;
  /** Skip the per-user file ($FWCARD_BOARDS or ~/.config/fwcard/boards.json). Tests use this. */
  noUserConfig?: boolean;
}

/** The per-user boards file, if one exists: $FWCARD_BOARDS, else $XDG_CONFIG_HOME/fwcard/boards.json. */
export function userBoardsPath(): string | null {
  if (process.env.FWCARD_BOARDS) return process.env.FWCARD_BOARDS;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  const p = join(base, 'fwcard', 'boards.json');
  return existsSync(p) ? p : null;
}

/**
 * The catalog: built-in boards, then the user's config file, then `--boards-file`. A user
 * entry with the name (or alias) of a known board overrides the facts it gives; other
 * entries are added.
 */
export function loadCatalog(opts: LoadCatalogOptions = {}): Catalog {
  let boards: Board[] = [...BUILTIN_BOARDS];
  const files: string[] = [];
  if (!opts.noUserConfig) {
    const p = userBoardsPath();
    if (p) files.push(p);
  }
  if (opts.boardsFile) files.push(opts.boardsFile);
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw fromSystemError(e, file, 'read the boards file');
    }
    boards = mergeBoards(boards, parseBoardsFile(text, file, new Catalog(boards)));
  }
  return new Catalog(boards);
}

function mergeBoards(base: Board[], extra: Board[]): Board[] {
  const out = [...base];
  for (const b of extra) {
    const i = out.findIndex((x) => x.name.toLowerCase() === b.name.toLowerCase());
    // A new entry's aliases win over the same alias on another entry.
    const taken = new Set([b.name.toLowerCase(), ...b.aliases.map((a) => a.toLowerCase())]);
    for (let j = 0; j < out.length; j++) {
      if (j === i) continue;
      const o = out[j]!;
      if (o.aliases.some((a) => taken.has(a.toLowerCase()))) out[j] = { ...o, aliases: o.aliases.filter((a) => !taken.has(a.toLowerCase())) };
    }
    if (i >= 0) out[i] = b;
    else out.push(b);
  }
  return out;
}

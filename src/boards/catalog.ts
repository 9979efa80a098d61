import { UsageError } from '../errors.js';
import type { Board } from './types.js';
import { SEED_BOARDS } from './data/seed.js';

/**
 * Board lookup. (Seed version: the full catalog with sources replaces data/seed.ts.)
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
    const close = [...this.byName.keys()].filter((k) => k.includes(name.toLowerCase()) || name.toLowerCase().includes(k)).slice(0, 5);
    throw new UsageError('unknown-board', `unknown board "${name}"`, {
      hint: close.length ? `Did you mean: ${close.join(', ')}? \`fwcard boards\` lists them all.` : '`fwcard boards` lists the boards fwcard knows.',
      details: { board: name, suggestions: close },
    });
  }
}

export function loadCatalog(): Catalog {
  return new Catalog(SEED_BOARDS);
}

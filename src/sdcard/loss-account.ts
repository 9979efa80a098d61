/**
 * The lost answers of one host driver, operation by operation. Both drivers meet them the same
 * way: a loss is not a card error, it is counted against the operation's `LossBudget`, traced,
 * and the driver gets back in step; anything that is not a loss goes on up unchanged.
 */
import { LossBudget } from './lost-response.js';

export interface LossAccountOptions {
  /** Losses in a row without progress before an operation fails (see `LossBudget`). */
  perProgress: number;
  /** How the bus's loss error reads in a trace line, or undefined when `e` is not one. */
  describe: (e: unknown) => string | undefined;
  trace: (message: string) => void;
}

export class LossAccount {
  private budget: LossBudget;
  /** Blocks moved and initialisation steps passed, ever: a live count for progress reports. */
  moved = 0;

  constructor(private readonly o: LossAccountOptions) {
    this.budget = LossBudget.forBlocks(o.perProgress, 0);
  }

  /** A fresh budget for an operation (init, deinit, a read or a write call) on `blocks` blocks. */
  start(blocks: number): void {
    this.budget = LossBudget.forBlocks(this.o.perProgress, blocks);
  }

  /** A block moved or an initialisation step passed: the losses in a row start over. */
  progress(): void {
    this.moved++;
    this.budget.progress();
  }

  /** Count a lost answer (throws `link-lossy` once the budget is spent) and trace it; rethrow anything else. */
  lost(e: unknown, where: string): void {
    const what = this.o.describe(e);
    if (what === undefined) throw e;
    this.o.trace(`${where}: ${what}; recovering`);
    this.budget.lost(e, where);
  }

  /**
   * Run `exchange` again until none of its answer is lost: for commands the card may be given
   * twice. `afterLoss` gets the card and the bus back in step before the next attempt.
   */
  async retry<T>(where: string, exchange: () => Promise<T>, afterLoss?: () => Promise<void>): Promise<T> {
    for (;;) {
      try {
        return await exchange();
      } catch (e) {
        this.lost(e, where);
        await afterLoss?.();
      }
    }
  }
}

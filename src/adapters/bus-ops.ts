/**
 * Keeps bus operations in call order: each operation starts only after the previous one was
 * issued. An operation may finish later than it is issued (a spi_send is issued once it is
 * queued for transmission and finishes when acknowledged), so sends still pipeline.
 */
export class OpChain {
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * Run `issue` after earlier operations were issued. `issue` returns the promise for the
   * operation's completion and resolves when the next operation may start.
   */
  run<T>(issue: () => Promise<{ done: Promise<T> }>): Promise<T> {
    const started = this.tail.then(issue);
    this.tail = started.catch(() => undefined);
    return started.then((s) => s.done);
  }
}

/** Largest `data` a `%*s` parameter can carry in one message after id and small ints. */
export function maxPayload(idBytes: number, headerInts: number[]): number {
  let n = 59 - idBytes - 1; // block content limit, minus id and the string's length byte
  for (const v of headerInts) n -= v < 96 && v >= -32 ? 1 : v < 12288 && v >= -4096 ? 2 : v < 1572864 ? 3 : v < 201326592 ? 4 : 5;
  return n;
}

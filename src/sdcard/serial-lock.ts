/**
 * One card conversation at a time. A host driver keeps protocol state between bus calls (the
 * read-ahead stream, the card's transfer state), so two overlapping operations would
 * interleave their bytes. Callers may still fire operations without awaiting: they queue.
 */
export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.tail.then(op, op);
    // Keep the chain alive whatever the outcome; the caller sees the real result.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

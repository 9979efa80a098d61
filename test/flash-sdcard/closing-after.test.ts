import { describe, expect, it } from 'vitest';
import { closingAfter } from '../../src/flows/flash-sdcard/card-session.js';

// The card session and the MCU link are closed whatever happens; the error the user sees is the
// one that stopped the work, not one from closing after it.
describe('closingAfter', () => {
  it('closes after work that succeeded, and returns its result', async () => {
    let closed = 0;
    await expect(closingAfter(async () => 42, async () => void closed++)).resolves.toBe(42);
    expect(closed).toBe(1);
  });
  it('closes after work that failed, and keeps the work\'s error even when the close fails too', async () => {
    let closed = 0;
    const work = async () => {
      throw new Error('the card was pulled');
    };
    const close = async () => {
      closed++;
      throw new Error('cannot unmount');
    };
    await expect(closingAfter(work, close)).rejects.toThrow('the card was pulled');
    expect(closed).toBe(1);
  });
  it('a close that fails after work that succeeded is the error', async () => {
    await expect(closingAfter(async () => 1, async () => Promise.reject(new Error('flush failed')))).rejects.toThrow('flush failed');
  });
});

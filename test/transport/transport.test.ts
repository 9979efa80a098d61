import { describe, expect, it } from 'vitest';
import { createMemoryPair } from '../../src/transport/memory.js';
import { readChunks } from '../../src/transport/transport.js';
import { classifyOpenError, SerialTransport } from '../../src/transport/serial-port.js';

describe('memory transport pair', () => {
  it('delivers in order, asynchronously, and ends the iterator on close', async () => {
    const [a, b] = createMemoryPair();
    await a.open();
    await b.open();
    const got: number[] = [];
    const reader = (async () => {
      for await (const c of readChunks(b)) got.push(...c);
    })();
    await a.write(Uint8Array.of(1, 2));
    await a.write(Uint8Array.of(3));
    expect(got).toEqual([]); // nothing synchronously
    await new Promise((r) => setTimeout(r, 5));
    await b.close();
    await reader;
    expect(got).toEqual([1, 2, 3]);
  });

  it('reports the peer vanishing with a cause', async () => {
    const [a] = createMemoryPair();
    await a.open();
    const cause = new Promise<Error | undefined>((r) => a.onClose(r));
    a.drop(new Error('gone'));
    expect((await cause)?.message).toBe('gone');
    await expect(a.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'not-open' });
  });
});

describe('serial port errors', () => {
  it('classifies serialport open failures into typed errors with hints', () => {
    expect(classifyOpenError('/dev/ttyX', new Error('Error: No such file or directory, cannot open /dev/ttyX')).code).toBe('no-such-device');
    const perm = classifyOpenError('/dev/ttyX', new Error('Error: Permission denied, cannot open /dev/ttyX'));
    expect(perm.code).toBe('permission-denied');
    expect(perm.hint).toMatch(/dialout/);
    const busy = classifyOpenError('/dev/ttyX', new Error('Error Resource temporarily unavailable Cannot lock port'));
    expect(busy.code).toBe('port-busy');
    expect(busy.hint).toMatch(/sudo service klipper stop/);
    expect(classifyOpenError('/x', new Error('Error: Inappropriate ioctl for device, cannot open /x')).code).toBe('not-a-serial-port');
  });

  it('opening a missing device rejects with no-such-device', async () => {
    const t = new SerialTransport({ path: '/dev/fwcard-definitely-missing', baudRate: 250000 });
    await expect(t.open()).rejects.toMatchObject({ code: 'no-such-device' });
    expect(t.isOpen).toBe(false);
  });

  it('a regular file is not a serial port', async () => {
    const t = new SerialTransport({ path: '/etc/hostname' });
    await expect(t.open()).rejects.toMatchObject({ code: expect.stringMatching(/not-a-serial-port|serial-open-failed/) });
  });
});

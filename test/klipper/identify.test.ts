import { deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { BlockDecoder, encodeBlock } from '../../src/klipper/frame.js';
import { MessageFormat } from '../../src/klipper/message-format.js';
import { McuSession } from '../../src/klipper/session.js';
import { createMemoryPair, type MemoryTransport } from '../../src/transport/memory.js';

// A hand-written device, independent of src/sim: answers identify from a dictionary written
// from Klipper's documented format (docs/Protocol.md, "Data Dictionary").
const DICT = {
  app: 'Klipper',
  license: 'GNU GPLv3',
  version: 'v0.12.0-0-gtestdict',
  build_versions: 'gcc: test binutils: test',
  commands: { 'identify offset=%u count=%c': 1, get_config: 2 },
  responses: { 'identify_response offset=%u data=%.*s': 0, 'config is_config=%c crc=%u is_shutdown=%c move_count=%hu': 3 },
  enumerations: { pin: { PA0: [0, 16] } },
  config: { MCU: 'stm32f103xe', CLOCK_FREQ: 72000000 },
};

const identifyResp = new MessageFormat(0, 'identify_response offset=%u data=%.*s');
const identify = new MessageFormat(1, 'identify offset=%u count=%c');
const config = new MessageFormat(3, 'config is_config=%c crc=%u is_shutdown=%c move_count=%hu');

interface DeviceScript {
  data: Uint8Array;
  /** Send an answer for an earlier offset first (a late duplicate). */
  staleFirst?: boolean;
  /** Leave every n-th identify unanswered (the answer lost on the link; the block still acked). */
  dropEvery?: number;
  requests: Array<{ offset: number; count: number }>;
}

function fakeDevice(dev: MemoryTransport, script: DeviceScript): void {
  let next = 0;
  const dec = new BlockDecoder();
  let sentStale = false;
  dev.onData((chunk) => {
    for (const b of dec.push(chunk)) {
      if (b.seq !== next) {
        void dev.write(encodeBlock(next)); // nak
        continue;
      }
      next = (next + 1) & 0xf;
      let pos = 0;
      const out: Uint8Array[] = [];
      while (pos < b.content.length) {
        const id = b.content[pos]!;
        if (id === 1) {
          const { params, pos: p } = identify.decode(b.content, pos, b.content.length);
          pos = p;
          const offset = params.offset as number;
          const count = params.count as number;
          script.requests.push({ offset, count });
          if (script.dropEvery && script.requests.length % script.dropEvery === 0) continue;
          if (script.staleFirst && offset > 0 && !sentStale) {
            sentStale = true;
            out.push(encodeBlock(next, identifyResp.encode({ offset: 0, data: script.data.subarray(0, count) })));
          }
          out.push(encodeBlock(next, identifyResp.encode({ offset, data: script.data.subarray(offset, offset + count) })));
        } else if (id === 2) {
          pos += 1;
          out.push(encodeBlock(next, config.encode({ is_config: 0, crc: 0, is_shutdown: 0, move_count: 0 })));
        } else throw new Error('unexpected command');
      }
      out.push(encodeBlock(next)); // ack
      for (const o of out) void dev.write(o);
    }
  });
}

const sessions: McuSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

async function run(script: DeviceScript, chunk: number | undefined = 40): Promise<McuSession> {
  const [host, dev] = createMemoryPair();
  await dev.open();
  fakeDevice(dev, script);
  const session = new McuSession({ transport: host, ...(chunk ? { identifyChunk: chunk } : {}), connectTimeoutMs: 1000, timeoutMs: 1000 });
  sessions.push(session);
  await session.connect();
  return session;
}

describe('identify handshake', () => {
  it('reads the zlib JSON in 40-byte chunks when asked to, until an empty chunk, and parses it', async () => {
    const data = new Uint8Array(deflateSync(JSON.stringify(DICT)));
    const script: DeviceScript = { data, requests: [] };
    const s = await run(script);
    expect(s.dictionary.version).toBe('v0.12.0-0-gtestdict');
    expect(s.dictionary.constant('MCU')).toBe('stm32f103xe');
    const offsets = new Set(script.requests.map((r) => r.offset));
    for (let o = 0; o < data.length; o += 40) expect(offsets.has(o)).toBe(true);
    expect(script.requests.every((r) => r.count === 40 && r.offset % 40 === 0)).toBe(true);
    expect(await s.getConfig()).toEqual({ isConfig: false, crc: 0, isShutdown: false, moveCount: 0 });
  });

  it('by default asks for the most one answer holds (55 bytes below offset 12288), a window in flight', async () => {
    const data = new Uint8Array(deflateSync(JSON.stringify(DICT)));
    const script: DeviceScript = { data, requests: [] };
    const s = await run(script, 0);
    expect(s.dictionary.app).toBe('Klipper');
    expect(script.requests.every((r) => r.count === 55 && r.offset % 55 === 0)).toBe(true);
    // Every chunk once, plus at most one window past the end; no offset twice on a clean link.
    expect(script.requests.length).toBeLessThanOrEqual(Math.ceil(data.length / 55) + 8);
    expect(new Set(script.requests.map((r) => r.offset)).size).toBe(script.requests.length);
  });

  it('asks again for chunks whose answers were lost', async () => {
    const data = new Uint8Array(deflateSync(JSON.stringify(DICT)));
    const script: DeviceScript = { data, dropEvery: 3, requests: [] };
    const s = await run(script, 25);
    expect(s.dictionary.version).toBe('v0.12.0-0-gtestdict');
    expect(script.requests.length).toBeGreaterThan(Math.ceil(data.length / 25));
  });

  it('ends on a dictionary a whole number of chunks long at the empty answer', async () => {
    const data = new Uint8Array(deflateSync(JSON.stringify(DICT)));
    const chunk = [...Array(40).keys()].map((i) => i + 20).find((c) => data.length % c === 0);
    expect(chunk).toBeDefined();
    const script: DeviceScript = { data, dropEvery: 4, requests: [] };
    const s = await run(script, chunk);
    expect(s.dictionary.version).toBe('v0.12.0-0-gtestdict');
    expect(script.requests.some((r) => r.offset === data.length)).toBe(true);
  });

  it('ignores an answer for the wrong offset', async () => {
    const data = new Uint8Array(deflateSync(JSON.stringify(DICT)));
    const s = await run({ data, staleFirst: true, requests: [] }, 25);
    expect(s.dictionary.app).toBe('Klipper');
  });

  it('reports a dictionary that is not zlib JSON as bad-dictionary', async () => {
    await expect(run({ data: new TextEncoder().encode('this is not zlib at all'), requests: [] })).rejects.toMatchObject({ code: 'bad-dictionary' });
  });
});

import { describe, expect, it, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../src/boards/catalog.js';
import { convertForBoard } from '../../src/firmware/index.js';
import { fsckFat, mcopyOut, mdir, removeDir, tempDir } from '../helpers/judges.js';
import { START, build, flashWith, makeCard, startRig } from './helpers.js';

const dir = tempDir();
afterAll(() => removeDir(dir));
const OFF = START * 512;

function judge(img: string) {
  const fsck = fsckFat(img, OFF, undefined);
  expect(fsck.status, fsck.output).toBe(0);
  return mdir(img, OFF);
}

describe('flash-sdcard against the simulated Klipper MCU', () => {
  it('hardware SPI board (SKR 1.3, LPC1768, SDSC card): upload, reset, bootloader renames, verified by dictionary', async () => {
    const img = join(dir, 'skr13.img');
    makeCard(img, { sizeMiB: 128, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-new');
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    try {
      const r = await flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict });
      expect(r.uploaded).toBe(true);
      expect(r.verification).toBe('dictionary');
      expect(r.previousVersion).toBe('v0.12.0-old');
      expect(r.version).toBe('v0.13.0-new');
      expect(r.firmwarePath).toBe('/firmware.bin');
      expect(r.card?.type).toBe('SDSC');
      // The reset after the upload flashed it (the run ends with one more reset, as Klipper's does).
      expect(rig.sim.boots.map((b) => b.outcome.kind)).toContain('flashed');
    } finally {
      await rig.close();
    }
    const listing = judge(img);
    expect(listing).toMatch(/FIRMWARE\s+CUR/i);
    expect(listing).not.toMatch(/firmware\s+bin/i);
    expect(listing).not.toMatch(/FWCARD\s+TMP/i);
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
  });

  it('a second update of a board already running a flashed build (reset again, new version)', async () => {
    const img = join(dir, 'twice.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const one = build(dir, 'btt-skr-v1.3', 'v0.13.0-one');
    const two = build(dir, 'btt-skr-v1.3', 'v0.13.0-two', { size: 33_000 });
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    try {
      expect((await flashWith(rig, { board: 'btt-skr-v1.3', firmware: one.bin, dictionary: one.dict })).version).toBe('v0.13.0-one');
      const r = await flashWith(rig, { board: 'btt-skr-v1.3', firmware: two.bin, dictionary: two.dict });
      expect(r.previousVersion).toBe('v0.13.0-one');
      expect(r.version).toBe('v0.13.0-two');
    } finally {
      await rig.close();
    }
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(two.bytes))).toBe(true);
    judge(img);
  });

  it('without -d: verified because the running version changed', async () => {
    const img = join(dir, 'nodict.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-mini-v3', 'v0.13.0-changed');
    const rig = startRig('btt-skr-mini-v3', img);
    try {
      const r = await flashWith(rig, { board: 'btt-skr-mini-v3', firmware: fw.bin, dictionary: join(dir, 'no-such.dict') }).catch((e) => e);
      expect(r.code).toBe('not-found'); // a missing -d file is an error, not silently ignored
      const ok = await flashWith(rig, { board: 'btt-skr-mini-v3', firmware: fw.bin });
      // The firmware's own embedded dictionary names the version, so it is checked too.
      expect(['dictionary', 'version-changed']).toContain(ok.verification);
      expect(ok.version).toBe('v0.13.0-changed');
    } finally {
      await rig.close();
    }
    judge(img);
  });

  it('software SPI board whose bootloader reads SDIO (Octopus): deferred, then -c after a power cycle', async () => {
    const img = join(dir, 'octopus.img');
    makeCard(img, { sizeMiB: 256 });
    const fw = build(dir, 'btt-octopus-f446-v1', 'v0.13.0-oct');
    const rig = startRig('btt-octopus-f446-v1', img);
    try {
      const r = await flashWith(rig, { board: 'btt-octopus-f446-v1', firmware: fw.bin, dictionary: fw.dict });
      expect(r.uploaded).toBe(true);
      expect(r.verification).toBe('deferred');
      expect(r.next).toMatch(/power .*off and on/i);
      expect(r.next).toContain('flash-sdcard -c');
      // A plain reset would not flash: the card is still in SPI mode. Cut the power instead.
      const ev = await rig.sim.powerCycle();
      expect(ev.outcome.kind).toBe('flashed');
      const c = await flashWith(rig, { board: 'btt-octopus-f446-v1', firmware: fw.bin, dictionary: fw.dict, checkOnly: true });
      expect(c.uploaded).toBe(false);
      expect(c.verification).toBe('dictionary');
      expect(c.version).toBe('v0.13.0-oct');
    } finally {
      await rig.close();
    }
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
    judge(img);
  });

  it('MKS Robin E3: the upload is XOR-scrambled and named Robin_e3.bin', async () => {
    const img = join(dir, 'robin.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'mks-robin-e3', 'v0.13.0-mks');
    const rig = startRig('mks-robin-e3', img);
    const board = loadCatalog().get('mks-robin-e3');
    try {
      const r = await flashWith(rig, { board: 'mks-robin-e3', firmware: fw.bin, dictionary: fw.dict });
      expect(r.firmwarePath).toBe('/Robin_e3.bin');
      expect(r.verification).toBe('dictionary');
    } finally {
      await rig.close();
    }
    const listing = judge(img);
    const cur = /^(ROBIN_E3|Robin_e3)\s+CUR/im.test(listing) ? '/Robin_e3.cur' : null;
    expect(cur, listing).not.toBeNull();
    expect(mcopyOut(img, OFF, cur!, dir).equals(Buffer.from(convertForBoard(fw.bytes, board)))).toBe(true);
  });

  it('Creality 4.2.2: a fresh name every time and the old .bin files removed', async () => {
    const img = join(dir, 'creality.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const a = build(dir, 'creality-v4.2.2', 'v0.13.0-a');
    const rig = startRig('creality-v4.2.2', img);
    let first: string;
    try {
      const r1 = await flashWith(rig, { board: 'creality-v4.2.2', firmware: a.bin, dictionary: a.dict, now: new Date('2026-11-24T10:00:00Z') });
      expect(r1.verification).toBe('deferred');
      first = r1.firmwarePath;
      expect(first).toMatch(/^\/fw[0-9a-z]{6}\.bin$/);
      const r2 = await flashWith(rig, { board: 'creality-v4.2.2', firmware: a.bin, dictionary: a.dict, now: new Date('2026-11-24T10:05:00Z') });
      expect(r2.firmwarePath).not.toBe(first);
      expect(r2.removed).toEqual([first]);
    } finally {
      await rig.close();
    }
    const listing = judge(img);
    expect(listing.match(/\bbin\b/gi)?.length).toBe(1);
  });

  it('ZNP Robin Nano DW v2.2: a long file name (ZNP_ROBIN_NANO.bin)', async () => {
    const img = join(dir, 'znp.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'znp-robin-nano-dw-v2.2', 'v0.13.0-znp');
    const rig = startRig('znp-robin-nano-dw-v2.2', img);
    try {
      const r = await flashWith(rig, { board: 'znp-robin-nano-dw-v2.2', firmware: fw.bin, dictionary: fw.dict });
      expect(r.firmwarePath).toBe('/ZNP_ROBIN_NANO.bin');
      expect(r.verification).toBe('dictionary');
    } finally {
      await rig.close();
    }
    judge(img);
  });
});

describe('flash-sdcard refuses, with the card left consistent', () => {
  it('MCU type mismatch names both MCUs', async () => {
    const img = join(dir, 'mismatch.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-x');
    const rig = startRig('btt-skr-mini-v3', img);
    try {
      // The user picked an LPC board for an STM32 board: the build check catches it first.
      const e = await flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict }).catch((x) => x);
      expect(e.code).toBe('mcu-type-mismatch');
      expect(e.message).toMatch(/Build MCU = lpc1768, Connected MCU = stm32g0b1xx/);
      expect(e.hint).toMatch(/-l/);
    } finally {
      await rig.close();
    }
    expect(judge(img)).not.toMatch(/\bbin\b/i);
  });

  it('an exFAT card, a GPT card: the reason and the prepare command', async () => {
    for (const [name, mk, code] of [
      ['exfat.img', { sizeMiB: 64, exfat: true }, 'card-exfat'],
      ['gpt.img', { sizeMiB: 64, table: 'gpt' as const }, 'card-gpt'],
    ] as const) {
      const img = join(dir, name);
      makeCard(img, mk);
      const before = readFileSync(img);
      const fw = build(dir, 'btt-skr-mini-v3', 'v0.13.0-y');
      const rig = startRig('btt-skr-mini-v3', img);
      try {
        const e = await flashWith(rig, { board: 'btt-skr-mini-v3', firmware: fw.bin, dictionary: fw.dict }).catch((x) => x);
        expect(e.code).toBe(code);
        expect(e.hint).toMatch(/fwcard prepare/);
      } finally {
        await rig.close();
      }
      expect(readFileSync(img).equals(before)).toBe(true);
    }
  });

  it('no card in the slot: a typed error that names the card and how to fix it', async () => {
    const img = join(dir, 'nocard.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const before = readFileSync(img);
    const fw = build(dir, 'btt-skr-mini-v3', 'v0.13.0-nocard');
    const rig = startRig('btt-skr-mini-v3', img);
    rig.card.remove();
    try {
      const e = await flashWith(rig, { board: 'btt-skr-mini-v3', firmware: fw.bin, dictionary: fw.dict }).catch((x) => x);
      expect(e.code).toMatch(/^sd-(no-card|init-timeout)$/);
      expect(e.message + e.hint).toMatch(/card/i);
      expect(e.hint).toBeTruthy();
    } finally {
      await rig.close();
    }
    expect(readFileSync(img).equals(before)).toBe(true);
  });

  it('a write-protected card', async () => {
    const img = join(dir, 'wp.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const before = readFileSync(img);
    const fw = build(dir, 'btt-skr-mini-v3', 'v0.13.0-wp');
    const rig = startRig('btt-skr-mini-v3', img, { writeProtect: true });
    try {
      const e = await flashWith(rig, { board: 'btt-skr-mini-v3', firmware: fw.bin, dictionary: fw.dict }).catch((x) => x);
      expect(e.code).toBe('card-write-protected');
      expect(e.hint).toMatch(/lock switch/);
    } finally {
      await rig.close();
    }
    expect(readFileSync(img).equals(before)).toBe(true);
  });

  it('a firmware built for the wrong offset is refused before the card is touched', async () => {
    const img = join(dir, 'offset.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const before = readFileSync(img);
    const fw = build(dir, 'btt-skr-mini-v3', 'v0.13.0-nobl', { flashStart: 0x08000000 });
    const rig = startRig('btt-skr-mini-v3', img);
    try {
      const e = await flashWith(rig, { board: 'btt-skr-mini-v3', firmware: fw.bin }).catch((x) => x);
      expect(e.code).toMatch(/^firmware-/);
      expect(e.hint).toMatch(/--force/);
      expect(rig.sim.boots).toHaveLength(0);
    } finally {
      await rig.close();
    }
    expect(readFileSync(img).equals(before)).toBe(true);
  });
});

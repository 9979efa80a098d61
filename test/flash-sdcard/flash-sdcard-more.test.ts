import { describe, expect, it, afterAll } from 'vitest';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { loadCatalog } from '../../src/boards/catalog.js';
import { fsckFat, mcopyOut, mdir, removeDir, tempDir } from '../helpers/judges.js';
import { START, build, flashWith, makeCard, planWith, startRig } from './helpers.js';

const dir = tempDir();
afterAll(() => removeDir(dir));
const OFF = START * 512;

describe('flash-sdcard: SDIO, interruptions, corruption', () => {
  it('a board whose MCU reaches the card over SDIO (a --boards-file definition)', async () => {
    const boardsFile = join(dir, 'boards.json');
    // skip_verify as Klipper's SDIO definitions have it: the run stops after the upload and names the -c to run.
    writeFileSync(boardsFile, JSON.stringify({ boards: [{ name: 'octopus-sdio', extends: 'btt-octopus-f446-v1', klipper: { mcu: 'stm32f446xx', sdio_bus: 'sdio', skip_verify: true } }] }));
    const board = loadCatalog({ boardsFile }).get('octopus-sdio');
    expect(board.klipper?.bus).toEqual({ kind: 'sdio', bus: 'sdio' });
    const img = join(dir, 'sdio.img');
    makeCard(img, { sizeMiB: 128 });
    const fw = build(dir, 'btt-octopus-f446-v1', 'v0.13.0-sdio');
    const rig = startRig('btt-octopus-f446-v1', img, { board, capacityType: 'SDHC' });
    try {
      const r = await flashWith(rig, { board: 'octopus-sdio', boardsFile, firmware: fw.bin, dictionary: fw.dict, baud: 115200 });
      expect(r.card?.bus).toBe('sdio');
      expect(r.uploaded).toBe(true);
      expect(r.verification).toBe('deferred');
      // The SDIO bus's messages are counted as SPI's are: the upload's 30,000 bytes take at
      // least one sdio_write_data_buffer per 4 KiB buffer and one answered command per block.
      expect(r.link!.roundTrips).toBeGreaterThanOrEqual(Math.ceil(fw.bytes.length / 512));
      expect(r.link!.messages - r.link!.roundTrips).toBeGreaterThanOrEqual(Math.ceil(fw.bytes.length / 4096));
      // The -c that completes it carries what this run was given (issue 16).
      expect(r.next).toContain(`then run: fwcard flash-sdcard -c -f ${fw.bin} -d ${fw.dict} -b 115200 --boards-file ${boardsFile} sim:octopus-sdio octopus-sdio`);
    } finally {
      await rig.close();
    }
    expect(fsckFat(img, OFF).status).toBe(0);
    expect(mdir(img, OFF)).toMatch(/firmware\s+bin|FIRMWARE\s+CUR/i);
  });

  it('the board disappears mid-upload: a typed error, no partial firmware.bin, and a re-run succeeds', async () => {
    const img = join(dir, 'unplug.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-unplug', { size: 40_000 });
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    try {
      let pulled = false;
      const e = await flashWith(rig, {
        board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict,
        onProgress: (ev) => {
          if (!pulled && ev.phase === 'upload' && (ev.bytes ?? 0) > 10_000) {
            pulled = true;
            rig.sim.disconnect();
          }
        },
      }).catch((x) => x);
      expect(pulled).toBe(true);
      expect(e.code, String(e.stack)).toMatch(/disconnected|unable-to-connect|remote-io|fat-disk-error/);
      // What a bootloader would flash: nothing — the partial data sits under the temporary name.
      expect(mdir(img, OFF)).not.toMatch(/firmware\s+bin/i);
      const r = await flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict });
      expect(r.verification).toBe('dictionary');
      expect(r.version).toBe('v0.13.0-unplug');
    } finally {
      await rig.close();
    }
    expect(mcopyOut(img, OFF, '/FIRMWARE.CUR', dir).equals(Buffer.from(fw.bytes))).toBe(true);
    expect(mdir(img, OFF)).not.toMatch(/FWCARD\s+TMP/i);
  });

  it('data corrupted on the way to the card: Checksum Mismatch, nothing renamed to firmware.bin', async () => {
    const img = join(dir, 'corrupt.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-corrupt');
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    // A bad card or reader: between the upload and its read-back, one stored byte of the
    // file flips (found on the card image by the firmware's first 256 bytes).
    let flipped = false;
    try {
      const e = await flashWith(rig, {
        board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict,
        onProgress: (ev) => {
          if (!flipped && ev.phase === 'upload' && ev.total && ev.bytes === ev.total) {
            const image = readFileSync(img);
            const at = image.indexOf(Buffer.from(fw.bytes.subarray(0, 256)));
            expect(at).toBeGreaterThan(0);
            const fd = openSync(img, 'r+');
            writeSync(fd, Buffer.of(image[at + 5000]! ^ 0x40), 0, 1, at + 5000);
            closeSync(fd);
            flipped = true;
          }
        },
      }).catch((x) => x);
      expect(flipped).toBe(true);
      expect(e.code).toBe('checksum-mismatch');
      expect(e.message).toMatch(/Checksum Mismatch/);
      expect(rig.sim.boots).toHaveLength(0); // not reset: the bootloader never saw it
    } finally {
      await rig.close();
    }
    const listing = mdir(img, OFF);
    expect(listing).not.toMatch(/firmware\s+bin/i);
    expect(fsckFat(img, OFF).status).toBe(0);
  });

  // FAT has no journal: a run cut off between the writes of one update (here: the new file's chain
  // is in the first FAT, its mirror and its directory entry are not) leaves lost clusters and FATs
  // that differ. flash-sdcard records each update on the host first; the next run undoes it.
  it('a run cut off inside a FAT update: the next run undoes it from the host record, fsck.fat finds nothing', async () => {
    const img = join(dir, 'half-update.img');
    makeCard(img, { sizeMiB: 64, fat: 16 });
    const boot = readFileSync(img).subarray(OFF, OFF + 512);
    const fatStart = START + boot.readUInt16LE(14);
    const fatEnd = fatStart + boot.readUInt16LE(22);
    const fw = build(dir, 'btt-skr-v1.3', 'v0.13.0-half', { size: 20_000 });
    const rig = startRig('btt-skr-v1.3', img, { capacityType: 'SDSC' });
    const records = join(process.env.FWCARD_STATE_DIR!, 'updates');
    try {
      // The first write to the first FAT is the new chain of FWCARD.TMP: the card is pulled out
      // right after it.
      const write = rig.image.writeSync.bind(rig.image);
      let cut = false;
      rig.image.writeSync = (lba: number, data: Uint8Array) => {
        write(lba, data);
        if (!cut && lba >= fatStart && lba < fatEnd) {
          cut = true;
          rig.card.faults.removeAfterBlocks = 1;
        }
      };
      const e = await flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict }).catch((x) => x);
      expect(cut).toBe(true);
      expect(e.code, String(e.stack)).toMatch(/sd-|card|fat-disk-error|remote-io/);
      expect(readdirSync(records).filter((f) => f.endsWith('.json'))).toHaveLength(1);
      const half = fsckFat(img, OFF);
      expect(half.status, half.output).not.toBe(0);
      expect(half.output).toMatch(/unused clusters|FATs differ/);

      rig.card.insert();
      // --dry-run reports the record and leaves it, and the card, as they are.
      const image = createHash('sha256').update(readFileSync(img)).digest('hex');
      const plan = await planWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict });
      expect(plan.pendingUndo).toMatch(/\.json$/);
      expect(createHash('sha256').update(readFileSync(img)).digest('hex')).toBe(image);
      expect(readdirSync(records).filter((f) => f.endsWith('.json'))).toHaveLength(1);

      const r = await flashWith(rig, { board: 'btt-skr-v1.3', firmware: fw.bin, dictionary: fw.dict });
      expect(r.verification).toBe('dictionary');
      expect(r.interruptedUpdate).toMatchObject({ status: 'undone' });
      expect(r.interruptedUpdate.status === 'undone' && r.interruptedUpdate.written).toBeGreaterThanOrEqual(1);
      expect(readdirSync(records).filter((f) => f.endsWith('.json'))).toEqual([]);
    } finally {
      await rig.close();
    }
    const after = fsckFat(img, OFF);
    expect(after.status, after.output).toBe(0);
  });
});

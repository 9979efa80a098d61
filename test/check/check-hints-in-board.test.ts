import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadCatalog } from '../../src/boards/catalog.js';
import { openImageFile } from '../../src/disk/image-file.js';
import { checkCard, remedyKind, type CheckReport } from '../../src/flows/check.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { FIRMWARE, GiB, fatCard, mcopy } from './cards.js';

// The hints of a card that sits in a board (`check <serial port> --board B`): the same findings as
// on a PC, but every command either runs over the board's link (flash-sdcard) or says the card
// has to come out into a card reader. Judged on real images (mkfs.fat, sfdisk, mtools).
const dir = tempDir('fwcard-checkinboard-');
afterAll(() => removeDir(dir));

const board = loadCatalog({ noUserConfig: true }).get('btt-octopus-f446-v1');
const inBoard = { port: '/dev/serial/by-id/usb-Klipper_stm32f446xx_1-if00', board: 'btt-octopus-f446-v1', flags: ['-b', '115200'] };

async function both(img: string): Promise<{ pc: CheckReport; mcu: CheckReport }> {
  const dev = openImageFile(img, { readOnly: true });
  try {
    const pc = await checkCard(dev, { board, target: img });
    const mcu = await checkCard(dev, { board, target: inBoard.port, inBoard });
    return { pc, mcu };
  } finally {
    await dev.close();
  }
}

const byId = (r: CheckReport, id: string) => r.findings.find((f) => f.id === id)!;

describe('hints for a card in a board', () => {
  it('a hidden partition type and a near-miss name: sfdisk and --fix on a card reader, flash-sdcard over the port', async () => {
    const img = join(dir, 'hidden.img');
    const off = fatCard(img, 1 * GiB, ['-F', '32'], '1b');
    mcopy(img, off, FIRMWARE, 'firmware (1).bin');
    const { pc, mcu } = await both(img);
    expect(mcu.findings.map((f) => f.id)).toEqual(pc.findings.map((f) => f.id));

    const type = byId(mcu, 'partition-type-mismatch');
    expect(type.remedy!.argv).toEqual(['sfdisk', '--part-type', '/dev/sdX', '1', 'b']);
    expect(type.remedy!.alternatives![0]!.argv).toEqual(['fwcard', 'flash-sdcard', '--format', '-b', '115200', inBoard.port, 'btt-octopus-f446-v1']);
    expect(remedyKind(type.remedy!.alternatives![0]!)).toBe('reformat');
    expect(byId(pc, 'partition-type-mismatch').remedy!.argv).toContain(img);

    const name = byId(mcu, 'firmware-name-near-miss');
    expect(name.remedy!.argv).toEqual(['fwcard', 'check', '/dev/sdX', '--board', 'btt-octopus-f446-v1', '--fix']);
    expect(name.remedy!.why).toMatch(/taken out of the board/);
    expect(remedyKind(name.remedy!)).toBe('fix-names');
    for (const f of mcu.findings) expect(f.hint).not.toMatch(/fwcard prepare/);
  });

  it('no firmware on the card: flash-sdcard (no --format) writes it, keeping the card; a given --firmware is passed as -f', async () => {
    const img = join(dir, 'nofw.img');
    fatCard(img, 1 * GiB, ['-F', '32']);
    const dev = openImageFile(img, { readOnly: true });
    try {
      const r = await checkCard(dev, { board, target: inBoard.port, inBoard, firmware: { path: 'out/klipper.bin', bytes: new Uint8Array(16) } });
      const missing = byId(r, 'firmware-missing');
      expect(missing.remedy!.argv).toEqual(['fwcard', 'flash-sdcard', '-b', '115200', '-f', 'out/klipper.bin', inBoard.port, 'btt-octopus-f446-v1']);
      expect(remedyKind(missing.remedy!)).toBe('rewrite-firmware');
      expect(missing.hint).toContain('`fwcard flash-sdcard -b 115200 -f out/klipper.bin');
      expect(missing.hint).not.toMatch(/fwcard prepare/);
    } finally {
      await dev.close();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../src/boards/catalog.js';
import { openImageFile, type ImageDevice } from '../../src/disk/image-file.js';
import { makeSyntheticFirmware } from '../../src/firmware/index.js';
import { flashSdcard, type FlashSdcardOptions } from '../../src/flows/flash-sdcard/index.js';
import { EmulatedSdCard } from '../../src/sim/sd-card/emulated-card.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.js';

export const START = 2048; // partition start of the test cards (sectors)

/** A card image made with the native tools: MBR by sfdisk, FAT by mkfs.fat. */
export function makeCard(path: string, opts: { sizeMiB: number; fat?: 16 | 32; table?: 'dos' | 'gpt'; exfat?: boolean }): void {
  writeFileSync(path, '');
  truncateSync(path, opts.sizeMiB * 1024 * 1024);
  const sectors = opts.sizeMiB * 2048 - START - (opts.table === 'gpt' ? 34 : 0);
  execFileSync('sfdisk', ['-q', path], { input: `label: ${opts.table ?? 'dos'}\nstart=${START}, size=${sectors}, type=${opts.table === 'gpt' ? 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7' : opts.exfat ? '7' : 'c'}\n` });
  if (opts.exfat) {
    const loop = execFileSync('losetup', ['-f', '--show', '-o', String(START * 512), '--sizelimit', String(sectors * 512), path], { encoding: 'utf8' }).trim();
    try {
      execFileSync('mkfs.exfat', [loop], { stdio: 'ignore' });
    } finally {
      execFileSync('losetup', ['-d', loop]);
    }
    return;
  }
  execFileSync('mkfs.fat', ['-F', String(opts.fat ?? 32), '-h', String(START), `--offset=${START}`, path, String(sectors / 2)], { stdio: 'ignore' });
}

export interface Rig {
  sim: Simulator;
  image: ImageDevice;
  card: EmulatedSdCard;
  close(): Promise<void>;
}

export function startRig(board: string, imagePath: string, o: Partial<SimulatorOptions> & { capacityType?: 'SDSC' | 'SDHC'; writeProtect?: boolean } = {}): Rig {
  const image = openImageFile(imagePath);
  const card = new EmulatedSdCard({ device: image, capacityType: o.capacityType ?? 'SDHC', ...(o.writeProtect ? { writeProtect: true } : {}) });
  const sim = startSimulator({ board, card, link: { kind: 'usb' }, latencyMs: 0.05, bootMs: 150, version: 'v0.12.0-old', ...o });
  return {
    sim,
    image,
    card,
    async close() {
      await sim.close();
      await image.close();
    },
  };
}

export interface Build {
  bin: string;
  dict: string;
  version: string;
  bytes: Uint8Array;
}

/** A synthetic Klipper build for `board` (its MCU and first application address). */
export function build(dir: string, boardName: string, version: string, extra: { flashStart?: number; mcu?: string; size?: number } = {}): Build {
  const board = loadCatalog().get(boardName);
  const fw = makeSyntheticFirmware({ mcu: extra.mcu ?? board.mcu, flashStart: extra.flashStart ?? board.appStart.value[0]!, size: extra.size ?? 30_000, klipper: { version } });
  const bin = join(dir, `${boardName}-${version}.bin`);
  const dict = join(dir, `${boardName}-${version}.dict`);
  writeFileSync(bin, fw.bytes);
  writeFileSync(dict, fw.dictionaryJson!);
  return { bin, dict, version, bytes: fw.bytes };
}

export function flashWith(rig: Rig, o: Omit<FlashSdcardOptions, 'device' | 'transport'>) {
  return flashSdcard({ device: `sim:${o.board}`, transport: () => rig.sim.connect(), connectTimeoutMs: 8000, reconnectTimeoutMs: 8000, ...o });
}

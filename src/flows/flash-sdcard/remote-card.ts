import type { Board } from '../../boards/types.js';
import { CombiningDevice } from '../../disk/combining-device.js';
import { PartitionView } from '../../disk/partition-view.js';
import { DeviceError, FormatError } from '../../errors.js';
import { RemoteFatVolume } from '../../fat/remote-volume.js';
import { undoInterruptedUpdate, updateLogPath, type UndoOutcome } from '../../fat/update-log.js';
import { configureSdio, configureSpi } from '../../adapters/configure-bus.js';
import { FAST_SD_SPI_SPEED, SD_SPI_SPEED } from '../../klipper/mcu-config.js';
import type { McuSession } from '../../klipper/session.js';
import { probeCard, type CardProbe } from '../../partition/probe.js';
import type { ProgressListener } from '../../progress.js';
import { cardFacts, type SdCardFacts } from '../../sdcard/card-facts.js';
import { SdBlockDevice } from '../../sdcard/sd-block-device.js';
import type { SdHost } from '../../sdcard/sd-host.js';
import { SdioSdHost } from '../../sdcard/sdio-sd-host.js';
import { SpiSdHost } from '../../sdcard/spi-sd-host.js';

export interface RemoteCard {
  facts: SdCardFacts;
  probe: CardProbe;
  device: SdBlockDevice;
  volume: RemoteFatVolume;
  /** The FAT volume's place on the card. */
  partitionStart: number;
  /** Messages on the SD bus so far (round trips are the transfers that wait for an answer). */
  busCounters(): Record<string, number>;
  /** What became of an update an earlier run left half-written on this card (see update-log.ts). */
  interrupted: UndoOutcome;
  /** The next volume call reads a file of about `bytes` bytes: fetch its clusters in long runs. */
  readAhead(bytes: number): void;
  close(): Promise<void>;
}

/**
 * Configure the board's SD bus on the MCU, initialise the card, find the FAT volume the
 * bootloader reads (first primary partition, or a superfloppy) and mount it through FatFs in a
 * worker. Refuses, with the reason, what Klipper's FatFs (and the board's bootloader) cannot
 * read: GPT, exFAT, NTFS, no FAT at all, and write-protected cards when writing is needed.
 */
export async function openRemoteCard(session: McuSession, board: Board, o: { fastSpi: boolean; needWrite: boolean; onProgress?: ProgressListener; trace?: (l: string) => void }): Promise<RemoteCard> {
  const k = board.klipper!;
  o.onProgress?.({ phase: 'card-init', label: `initialising the SD card over ${k.bus.kind === 'sdio' ? 'SDIO' : k.bus.kind === 'swspi' ? 'software SPI' : `SPI (${k.bus.bus})`}` });
  let host: SdHost;
  let counters: Record<string, number>;
  if (k.bus.kind === 'sdio') {
    const cfg = await configureSdio(session, { bus: k.bus.bus });
    counters = (cfg.bus as unknown as { counters?: Record<string, number> }).counters ?? {};
    host = new SdioSdHost(cfg.bus, o.trace ? { trace: o.trace } : {});
  } else {
    const rateHz = o.fastSpi ? FAST_SD_SPI_SPEED : SD_SPI_SPEED;
    const cfg = await configureSpi(session, { bus: k.bus, csPin: k.csPin!, rateHz });
    counters = cfg.bus.counters;
    host = new SpiSdHost(cfg.bus, { crc: true, busHz: rateHz, ...(o.trace ? { trace: o.trace } : {}) });
  }
  const device = await SdBlockDevice.open(host);
  const facts = cardFacts(device.info);
  o.onProgress?.({ phase: 'card-init', label: `card: ${facts.type} ${(facts.capacityBytes / 1e9).toFixed(1)} GB${facts.manufacturer ? `, ${facts.manufacturer}` : ''}`, done: true });
  if (o.needWrite && facts.writeProtected) {
    throw new DeviceError('card-write-protected', 'the SD card in the board is write-protected', {
      hint: 'Take the card out, slide its lock switch to "unlocked" (or use another card), put it back and try again.',
      details: { card: facts },
    });
  }
  const probe = await probeCard(device);
  let start = 0;
  let sectors = device.sectorCount;
  const fatNames = ['FAT12', 'FAT16', 'FAT32'];
  if (probe.table === 'gpt') {
    throw new FormatError('card-gpt', 'the SD card in the board has a GPT partition table; Klipper and the board\'s bootloader read MBR cards only', {
      hint: `Re-create the card on a PC: \`fwcard prepare /dev/sdX --board ${board.name} --firmware klipper.bin\` (MBR + FAT32).`,
    });
  }
  if (probe.table === 'none') {
    if (!fatNames.includes(probe.superfloppyFs ?? '')) throw noFat(board, probe.superfloppyFs ?? 'unknown');
  } else {
    const first = probe.partitions[0];
    if (!first || !fatNames.includes(first.fs)) throw noFat(board, first?.fs ?? 'no partition');
    start = first.start;
    sectors = Math.min(first.sectors, device.sectorCount - first.start);
  }
  o.onProgress?.({ phase: 'mount', label: 'mounting the FAT volume' });
  // FatFs moves file data a cluster at a time; over the MCU every request is a multi-block
  // command with its own round trips, so consecutive clusters travel as one run.
  const combined = new CombiningDevice(device);
  const view = new PartitionView(combined, start, sectors);
  // Each update of the card's FAT is recorded on the host first; one left half-written by a run
  // that died (killed, host powered off, board unplugged) is undone before anything else.
  const identity = { card: Buffer.from(device.info.cidRaw).toString('hex'), partitionStart: start };
  const logPath = updateLogPath(identity.card);
  let interrupted: UndoOutcome = { status: 'none' };
  if (!facts.writeProtected) {
    interrupted = await undoInterruptedUpdate(view, logPath, identity);
    if (interrupted.status !== 'none') o.trace?.(`update record ${logPath}: ${JSON.stringify(interrupted)}`);
  }
  const volume = await RemoteFatVolume.mount(view, facts.writeProtected ? {} : { updateLog: { path: logPath, ...identity } });
  return {
    facts,
    probe,
    device,
    volume,
    interrupted,
    partitionStart: start,
    busCounters: () => ({ ...counters }),
    readAhead: (bytes) => combined.readAhead(Math.ceil(bytes / device.sectorSize)),
    async close() {
      try {
        await volume.unmount();
      } finally {
        await combined.close();
      }
    },
  };
}

function noFat(board: Board, fs: string): FormatError {
  const what = fs === 'exFAT' ? 'exFAT (what Windows and the SD Formatter make of cards over 32 GB)' : fs;
  return new FormatError(fs === 'exFAT' ? 'card-exfat' : 'card-no-fat', `the SD card in the board is ${what}, not FAT16/FAT32; Klipper's FatFs and the bootloader cannot read it`, {
    hint: `Re-create the card on a PC: \`fwcard prepare /dev/sdX --board ${board.name} --firmware klipper.bin\` (FAT32 works on cards of any size).`,
    details: { fs },
  });
}

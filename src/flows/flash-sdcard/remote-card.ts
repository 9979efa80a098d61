import { existsSync } from 'node:fs';
import type { Board } from '../../boards/types.js';
import type { BlockDevice } from '../../disk/block-device.js';
import { CombiningDevice } from '../../disk/combining-device.js';
import { PartitionView } from '../../disk/partition-view.js';
import { DeviceError, FormatError } from '../../errors.js';
import { RemoteFatVolume } from '../../fat/remote-volume.js';
import { undoInterruptedUpdate, updateLogPath, type UndoOutcome } from '../../fat/update-log.js';
import type { McuSession } from '../../klipper/session.js';
import { probeCard, type CardProbe } from '../../partition/probe.js';
import type { ProgressListener, Trace } from '../../progress.js';
import { cardFacts, type SdCardFacts } from '../../sdcard/card-facts.js';
import { formatBytes } from '../../util/size.js';
import { SdBlockDevice } from '../../sdcard/sd-block-device.js';
import { busLabel, openCardBus } from './card-bus.js';
import type { BusCounters } from './link-stats.js';
import type { CardRepairHook } from '../repair-card/hook.js';

export interface RemoteCard {
  facts: SdCardFacts;
  probe: CardProbe;
  device: SdBlockDevice;
  volume: RemoteFatVolume;
  /** The FAT volume's place on the card. */
  partitionStart: number;
  /** Messages on the SD bus so far (round trips are the transfers that wait for an answer). */
  busCounters(): BusCounters;
  /** What became of an update an earlier run left half-written on this card (see update-log.ts). */
  interrupted: UndoOutcome;
  /**
   * Read-only: the host's record of an update an earlier run left half-written on this card,
   * which a run that may write undoes first; null when there is none (or the card was opened to write).
   */
  pendingUndo: string | null;
  /** The next volume call reads a file of about `bytes` bytes: fetch its clusters in long runs. */
  readAhead(bytes: number): void;
  close(): Promise<void>;
}

export interface OpenCardOptions {
  fastSpi: boolean;
  /** Refuse a write-protected card (the run is going to write). */
  needWrite: boolean;
  /** Nothing may reach the card (--dry-run): the device refuses writes and no interrupted update is undone. */
  readOnly?: boolean;
  onProgress?: ProgressListener;
  trace?: Trace;
  /**
   * Partition tables already read in this run, by card (CID): the card is probed once, not again
   * after the reset (only the bootloader has touched it since, and it writes files, not tables).
   */
  probes?: Map<string, CardProbe>;
  /** flash-sdcard --format (repair-card/hook.ts): may re-create the card before its volume is looked for. */
  repair?: CardRepairHook;
}

/**
 * Configure the board's SD bus on the MCU, initialise the card, find the FAT volume the
 * bootloader reads (first primary partition, or a superfloppy) and mount it through FatFs in a
 * worker. Refuses, with the reason, what Klipper's FatFs (and the board's bootloader) cannot
 * read: GPT, exFAT, NTFS, no FAT at all, and write-protected cards when writing is needed.
 */
export async function openRemoteCard(session: McuSession, board: Board, o: OpenCardOptions): Promise<RemoteCard> {
  o.onProgress?.({ phase: 'card-init', label: `initialising the SD card over ${busLabel(board)}` });
  const bus = await openCardBus(session, board, { fastSpi: o.fastSpi, ...(o.trace ? { trace: o.trace } : {}) });
  const device = await SdBlockDevice.open(bus.host, o.readOnly ? { readOnly: true } : {});
  const facts = cardFacts(device.info);
  o.onProgress?.({ phase: 'card-init', label: `card: ${facts.type} ${formatBytes(facts.capacityBytes)}${facts.manufacturer ? `, ${facts.manufacturer}` : ''}`, done: true });
  if (o.needWrite && facts.writeProtected) {
    throw new DeviceError('card-write-protected', 'the SD card in the board is write-protected', {
      hint: 'Take the card out, slide its lock switch to "unlocked" (or use another card), put it back and try again.',
      details: { card: facts },
    });
  }
  const cid = Buffer.from(device.info.cidRaw).toString('hex');
  const seen = new SectorsSeen(device);
  let probe = o.probes?.get(cid) ?? (await probeCard(seen));
  if (o.repair && (await o.repair(device, { card: cid, sectors: device.sectorCount }, facts))) probe = await seen.fresh(probeCard);
  o.probes?.set(cid, probe);
  const { start, sectors } = bootVolume(board, probe, device.sectorCount);
  o.onProgress?.({ phase: 'mount', label: 'mounting the FAT volume' });
  // FatFs moves file data a cluster at a time; over the MCU every request is a multi-block
  // command with its own round trips, so consecutive clusters travel as one run.
  const combined = new CombiningDevice(device);
  // The probe has just read the volume's boot sector: FatFs's mount need not fetch it again.
  const boot = seen.get(start);
  if (boot) combined.seed(start, boot);
  const view = new PartitionView(combined, start, sectors);
  // Each update of the card's FAT is recorded on the host first; one left half-written by a run
  // that died (killed, host powered off, board unplugged) is undone before anything else.
  const identity = { card: cid, partitionStart: start };
  const logPath = updateLogPath(identity.card);
  const writable = !device.readOnly;
  let interrupted: UndoOutcome = { status: 'none' };
  if (writable) {
    interrupted = await undoInterruptedUpdate(view, logPath, identity);
    if (interrupted.status !== 'none') o.trace?.('flash-sdcard', `update record ${logPath}: ${JSON.stringify(interrupted)}`);
  }
  const volume = await RemoteFatVolume.mount(view, writable ? { updateLog: { path: logPath, ...identity } } : {});
  return {
    facts,
    probe,
    device,
    volume,
    interrupted,
    pendingUndo: o.readOnly && !facts.writeProtected && existsSync(logPath) ? logPath : null,
    partitionStart: start,
    busCounters: bus.counters,
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

const FAT_NAMES = ['FAT12', 'FAT16', 'FAT32'];

/** The volume the bootloader reads: the first primary partition, or the whole card (superfloppy). */
function bootVolume(board: Board, probe: CardProbe, cardSectors: number): { start: number; sectors: number } {
  if (probe.table === 'gpt') {
    throw new FormatError('card-gpt', 'the SD card in the board has a GPT partition table; Klipper and the board\'s bootloader read MBR cards only', {
      hint: `Run again with --format to re-create the card where it is (asks first), or re-create it on a PC: \`fwcard prepare /dev/sdX --board ${board.name} --firmware klipper.bin\` (MBR + FAT32).`,
    });
  }
  if (probe.table === 'none') {
    if (!FAT_NAMES.includes(probe.superfloppyFs ?? '')) throw noFat(board, probe.superfloppyFs ?? 'unknown');
    return { start: 0, sectors: cardSectors };
  }
  const first = probe.partitions[0];
  if (!first || !FAT_NAMES.includes(first.fs)) throw noFat(board, first?.fs ?? 'no partition');
  return { start: first.start, sectors: Math.min(first.sectors, cardSectors - first.start) };
}

function noFat(board: Board, fs: string): FormatError {
  const what = fs === 'exFAT' ? 'exFAT (what Windows and the SD Formatter make of cards over 32 GB)' : fs;
  return new FormatError(fs === 'exFAT' ? 'card-exfat' : 'card-no-fat', `the SD card in the board is ${what}, not FAT16/FAT32; Klipper's FatFs and the bootloader cannot read it`, {
    hint: `Run again with --format to re-create the card where it is (asks first), or re-create it on a PC: \`fwcard prepare /dev/sdX --board ${board.name} --firmware klipper.bin\` (FAT32 works on cards of any size).`,
    details: { fs },
  });
}

/**
 * The card as the probe reads it, keeping the single sectors it read, so the mount can start
 * from what is already on the host. `fresh` forgets them first (the card was re-created).
 */
class SectorsSeen implements BlockDevice {
  private readonly sectors = new Map<number, Uint8Array>();
  readonly name: string;
  readonly sectorSize: number;
  readonly sectorCount: number;
  readonly readOnly: boolean;

  constructor(private readonly inner: BlockDevice) {
    this.name = inner.name;
    this.sectorSize = inner.sectorSize;
    this.sectorCount = inner.sectorCount;
    this.readOnly = inner.readOnly;
  }

  get(lba: number): Uint8Array | undefined {
    return this.sectors.get(lba);
  }

  fresh<T>(probe: (dev: BlockDevice) => Promise<T>): Promise<T> {
    this.sectors.clear();
    return probe(this);
  }

  async read(lba: number, count: number): Promise<Uint8Array> {
    const data = await this.inner.read(lba, count);
    if (count === 1) this.sectors.set(lba, data.slice());
    return data;
  }

  write(lba: number, data: Uint8Array): Promise<void> {
    this.sectors.clear();
    return this.inner.write(lba, data);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

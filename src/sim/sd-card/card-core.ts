/**
 * What both faces of the emulated card share: its storage, registers, identification state,
 * clock, busy periods and fault hooks. Internal to the emulated card (`emulated-card.ts`
 * composes it with the SPI and SD-bus engines); not an API of its own.
 */
import type { SyncBlockDevice } from '../../disk/block-device.js';
import type { SdCardFaults, SdCardMode, SdCardStats } from './card-interface.js';
import { buildCid, type BuildCidOptions } from '../../sdcard/cid.js';
import { buildCsd, representableCapacity } from '../../sdcard/csd.js';
import { ACMD41_HCS, Ocr, R1, type CardStateName } from '../../sdcard/sd-protocol.js';

export const BLOCK = 512;

export interface CardTiming {
  /** Read access time before a data block starts (NAC), µs. */
  readAccessUs: number;
  /** Programming time after each written block, µs. */
  writeBusyUs: number;
  /** Busy after CMD12 or the stop-tran token, µs. */
  stopBusyUs: number;
}

export const DEFAULT_CARD_TIMING: CardTiming = { readAccessUs: 100, writeBusyUs: 500, stopBusyUs: 50 };

export interface EmulatedSdCardOptions {
  device: SyncBlockDevice;
  /**
   * `auto` (default): SDSC up to 2 GiB, SDHC up to 32 GiB, SDXC above, like real cards.
   * The card reports the largest capacity its CSD can express that fits the device.
   */
  capacityType?: 'auto' | 'SDSC' | 'SDHC' | 'SDXC';
  /** 1: a Physical Layer 1.x card that does not know CMD8 (SDSC only). Default 2. */
  specVersion?: 1 | 2;
  cid?: BuildCidOptions;
  writeProtect?: boolean;
  /** ACMD41 calls answered "still initialising" before the card is ready. Default 2. */
  initPolls?: number;
  /** SPI response delay NCR in bytes (1..8 by the spec). Default 1. */
  ncrBytes?: number;
  timing?: Partial<CardTiming>;
  /** Relative card address the card publishes with CMD3. Default 0x59b4. */
  rca?: number;
}

export class CardCore {
  readonly device: SyncBlockDevice;
  readonly faults: SdCardFaults = {};
  readonly stats: SdCardStats = { commands: 0, blocksRead: 0, blocksWritten: 0, busyMicros: 0, spiBytes: 0 };
  writeProtect: boolean;
  readonly timing: CardTiming;
  readonly capacityType: 'SDSC' | 'SDHC' | 'SDXC';
  readonly specVersion: 1 | 2;
  readonly ncr: number;
  private readonly cid: Uint8Array;
  private readonly initPolls: number;
  readonly publishedRca: number;
  /** Called when the card loses power by itself (pulled out by a fault hook). */
  onPowerLoss: () => void = () => {};

  inserted = true;
  mode: SdCardMode = 'unset';
  busWidth: 1 | 4 = 1;
  state: CardStateName = 'idle';
  appCmd = false;
  acmd41Calls = 0;
  rca = 0;
  /** Error bits waiting to be reported by the next SD-mode status. */
  pending = 0;
  /** The card's clock, µs. */
  now = 0;
  busyUntil = 0;
  stuckBusy = false;

  constructor(opts: EmulatedSdCardOptions) {
    this.device = opts.device;
    if (opts.device.sectorSize !== BLOCK) throw new RangeError(`an SD card has ${BLOCK}-byte blocks, device has ${opts.device.sectorSize}`);
    const bytes = opts.device.sectorCount * BLOCK;
    const type = opts.capacityType ?? 'auto';
    this.capacityType =
      type !== 'auto' ? type : bytes <= 2 * 1024 ** 3 ? 'SDSC' : bytes <= 32 * 1024 ** 3 ? 'SDHC' : 'SDXC';
    this.specVersion = this.capacityType === 'SDSC' ? (opts.specVersion ?? 2) : 2;
    this.cid = buildCid(opts.cid);
    this.writeProtect = opts.writeProtect ?? false;
    this.initPolls = opts.initPolls ?? 2;
    this.ncr = Math.max(1, Math.min(8, opts.ncrBytes ?? 1));
    this.timing = { ...DEFAULT_CARD_TIMING, ...opts.timing };
    this.publishedRca = (opts.rca ?? 0x59b4) & 0xffff || 1;
  }

  /** Back to the power-up state of the protocol; storage, clock, faults and write-protect stay. */
  reset(): void {
    this.mode = 'unset';
    this.busWidth = 1;
    this.state = 'idle';
    this.appCmd = false;
    this.acmd41Calls = 0;
    this.rca = 0;
    this.pending = 0;
    this.busyUntil = this.now;
    this.stuckBusy = false;
  }

  /** Block addressing (SDHC/SDXC) rather than byte addressing. */
  get highCapacity(): boolean {
    return this.capacityType !== 'SDSC';
  }

  /** The CSD as the card reports it now (write-protect and capacity faults included). */
  csd(): Uint8Array {
    return buildCsd({
      capacityType: this.capacityType,
      capacityBytes: this.reportedCapacity(),
      temporaryWriteProtect: this.writeProtect,
    });
  }
  cidRegister(): Uint8Array {
    return this.cid.slice();
  }
  /** Capacity in bytes the CSD announces. */
  reportedCapacity(): number {
    return representableCapacity(this.capacityType, this.faults.csdCapacityBytes ?? this.device.sectorCount * BLOCK);
  }
  /** Sectors addressable through the card (from its CSD). */
  get sectorCount(): number {
    return this.reportedCapacity() / BLOCK;
  }

  get alive(): boolean {
    return this.inserted && !this.faults.silent;
  }
  busy(): boolean {
    return this.stuckBusy || this.now < this.busyUntil;
  }
  startBusy(us: number): void {
    this.stats.busyMicros += us;
    this.busyUntil = Math.max(this.busyUntil, this.now) + us;
    if (this.faults.stayBusy) this.stuckBusy = true;
  }

  /** Count one data block against `removeAfterBlocks`; true when the card is gone now. */
  pulledOut(): boolean {
    const n = this.faults.removeAfterBlocks;
    if (n === undefined || n <= 0) return !this.inserted;
    if (n === 1) {
      this.faults.removeAfterBlocks = undefined;
      this.inserted = false;
      this.onPowerLoss();
      return true;
    }
    this.faults.removeAfterBlocks = n - 1;
    return false;
  }

  /** Block number for an address argument; a counterfeit-style wrap when the CSD lies. */
  blockOf(arg: number): { block: number; error: number } {
    if (!this.highCapacity && arg % BLOCK !== 0) return { block: 0, error: R1.ADDRESS_ERROR };
    const block = this.highCapacity ? arg : arg / BLOCK;
    if (block >= this.sectorCount) return { block, error: R1.PARAMETER_ERROR };
    return { block, error: 0 };
  }
  /** A block the CSD promises but a lying card cannot store, when it fails rather than wraps. */
  missing(block: number): boolean {
    return this.faults.pastRealEnd === 'error' && block >= this.device.sectorCount;
  }
  physical(block: number): number {
    // A card whose CSD claims more than it holds wraps around, as counterfeit cards do.
    return block % this.device.sectorCount;
  }
  readBlock(block: number): Uint8Array {
    this.stats.blocksRead++;
    return this.device.readSync(this.physical(block), 1);
  }
  writeBlock(block: number, data: Uint8Array): void {
    this.stats.blocksWritten++;
    this.device.writeSync(this.physical(block), data);
  }
  takeReadCrcFault(): boolean {
    const n = this.faults.readCrcErrorCount ?? 0;
    if (n <= 0) return false;
    this.faults.readCrcErrorCount = n - 1;
    return true;
  }
  takeWriteReject(): 'crc' | 'write-error' | undefined {
    const r = this.faults.rejectWrites;
    if (!r || r.count <= 0) return undefined;
    r.count--;
    return r.kind;
  }

  /** ACMD41: counts initialisation progress; true once the card is ready. */
  acmd41(arg: number): boolean {
    if (this.state !== 'idle') return true;
    // An SDHC/SDXC card never leaves idle for a host that does not set HCS (spec 4.2.3).
    if (this.highCapacity && (arg & ACMD41_HCS) === 0) return false;
    this.acmd41Calls++;
    if (this.acmd41Calls <= this.initPolls) return false;
    this.state = this.mode === 'spi' ? 'tran' : 'ready';
    return true;
  }

  ocr(): number {
    let ocr: number = Ocr.VDD_27_36;
    if (this.state !== 'idle') {
      ocr |= Ocr.BUSY;
      if (this.highCapacity) ocr |= Ocr.CCS;
    }
    return ocr >>> 0;
  }
}

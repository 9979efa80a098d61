/**
 * An SD card in software, backed by a `SyncBlockDevice` (usually an image file). It answers
 * like a real card on both of its interfaces: the SPI byte stream and the SD-bus command
 * level that an STM32 SDIO controller sees. See `card-interface.ts` for the contracts.
 *
 * Time: the card has its own clock in microseconds, advanced by bus clocks (8 bits per SPI
 * byte at the SPI rate; command, response and data bits at the SDIO rate) and by `elapse()`.
 * Programming after a write and read access latency are spans of that clock, so a fast bus
 * polls more busy bytes and a slow link sees none.
 */
import type { SyncBlockDevice } from '../disk/block-device.js';
import type {
  SdCardFaults,
  SdCardMode,
  SdCardStats,
  SdioCommandResult,
  SdioDataResult,
  SdioErrorCode,
  SdioWaitType,
  SimulatedSdCard,
} from './card-interface.js';
import { SdioError, SdioWait } from './card-interface.js';
import { buildCid, type BuildCidOptions } from './cid.js';
import { crc16 } from './crc16.js';
import { crc7Byte } from './crc7.js';
import { buildCsd, representableCapacity } from './csd.js';
import {
  ACMD41_HCS,
  CardState,
  Cmd,
  DataErrorToken,
  DataResponse,
  Ocr,
  R1,
  R2,
  Status,
  Token,
  type CardStateName,
} from './sd-protocol.js';

const BLOCK = 512;

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

interface OutSegment {
  bytes: Uint8Array;
  pos: number;
  /** The card drives 0xFF until its clock reaches this time (read access latency). */
  notBefore: number;
}

type SpiRx =
  | { kind: 'command' }
  | { kind: 'write-token'; multi: boolean; block: number }
  | { kind: 'write-data'; multi: boolean; block: number; buf: Uint8Array; n: number };

/** What the card put on the CMD line in SD mode. */
type SdResponse =
  | { kind: 'none' }
  | { kind: 'short'; value: number; crc: boolean }
  | { kind: 'long'; reg: Uint8Array };

export class EmulatedSdCard implements SimulatedSdCard {
  readonly device: SyncBlockDevice;
  readonly faults: SdCardFaults = {};
  readonly stats: SdCardStats = { commands: 0, blocksRead: 0, blocksWritten: 0, busyMicros: 0, spiBytes: 0 };
  writeProtect: boolean;
  readonly timing: CardTiming;
  readonly capacityType: 'SDSC' | 'SDHC' | 'SDXC';
  readonly specVersion: 1 | 2;

  private readonly cid: Uint8Array;
  private readonly initPolls: number;
  private readonly ncr: number;
  private readonly publishedRca: number;

  private _inserted = true;
  private _mode: SdCardMode = 'unset';
  private _busWidth: 1 | 4 = 1;
  private state: CardStateName = 'idle';
  private appCmd = false;
  private crcOn = false;
  private acmd41Calls = 0;
  private rca = 0;
  /** Error bits waiting to be reported by the next status (SD mode) or CMD13 (SPI). */
  private pending = 0;
  private spiPendingR2 = 0;

  private now = 0;
  private busyUntil = 0;
  private stuckBusy = false;
  private spiHz = 400_000;
  private sdioHz = 400_000;

  private selected = false;
  private cmdBuf = new Uint8Array(6);
  private cmdLen = 0;
  private out: OutSegment[] = [];
  private rx: SpiRx = { kind: 'command' };
  /** Next block of a CMD18 stream, or -1. */
  private streamBlock = -1;
  /** Next block of an SD-mode CMD18/CMD25 that CMD12 has not ended yet. */
  private sdNextBlock = 0;

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

  /* ------------------------------------------------------------ physical world */

  get mode(): SdCardMode {
    return this._mode;
  }
  get inserted(): boolean {
    return this._inserted;
  }
  get busWidth(): 1 | 4 {
    return this._busWidth;
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

  powerCycle(): void {
    this._mode = 'unset';
    this._busWidth = 1;
    this.state = 'idle';
    this.appCmd = false;
    this.crcOn = false;
    this.acmd41Calls = 0;
    this.rca = 0;
    this.pending = 0;
    this.spiPendingR2 = 0;
    this.busyUntil = this.now;
    this.stuckBusy = false;
    this.cmdLen = 0;
    this.out = [];
    this.rx = { kind: 'command' };
    this.streamBlock = -1;
    this.sdNextBlock = 0;
  }
  insert(): void {
    this._inserted = true;
    this.powerCycle();
  }
  remove(): void {
    this._inserted = false;
    this.powerCycle();
  }
  elapse(micros: number): void {
    if (micros > 0) this.now += micros;
  }

  private get alive(): boolean {
    return this._inserted && !this.faults.silent;
  }
  private busy(): boolean {
    return this.stuckBusy || this.now < this.busyUntil;
  }
  private startBusy(us: number): void {
    this.stats.busyMicros += us;
    this.busyUntil = Math.max(this.busyUntil, this.now) + us;
    if (this.faults.stayBusy) this.stuckBusy = true;
  }

  /** Count one data block against `removeAfterBlocks`; true when the card is gone now. */
  private pulledOut(): boolean {
    const n = this.faults.removeAfterBlocks;
    if (n === undefined || n <= 0) return !this._inserted;
    if (n === 1) {
      this.faults.removeAfterBlocks = undefined;
      this.remove();
      return true;
    }
    this.faults.removeAfterBlocks = n - 1;
    return false;
  }

  /** Block number for an address argument; a counterfeit-style wrap when the CSD lies. */
  private blockOf(arg: number): { block: number; error: number } {
    if (!this.highCapacity && arg % BLOCK !== 0) return { block: 0, error: R1.ADDRESS_ERROR };
    const block = this.highCapacity ? arg : arg / BLOCK;
    if (block >= this.sectorCount) return { block, error: R1.PARAMETER_ERROR };
    return { block, error: 0 };
  }
  /** A block the CSD promises but a lying card cannot store, when it fails rather than wraps. */
  private missing(block: number): boolean {
    return this.faults.pastRealEnd === 'error' && block >= this.device.sectorCount;
  }
  private physical(block: number): number {
    // A card whose CSD claims more than it holds wraps around, as counterfeit cards do.
    return block % this.device.sectorCount;
  }
  private readBlock(block: number): Uint8Array {
    this.stats.blocksRead++;
    return this.device.readSync(this.physical(block), 1);
  }
  private writeBlock(block: number, data: Uint8Array): void {
    this.stats.blocksWritten++;
    this.device.writeSync(this.physical(block), data);
  }
  private takeReadCrcFault(): boolean {
    const n = this.faults.readCrcErrorCount ?? 0;
    if (n <= 0) return false;
    this.faults.readCrcErrorCount = n - 1;
    return true;
  }
  private takeWriteReject(): 'crc' | 'write-error' | undefined {
    const r = this.faults.rejectWrites;
    if (!r || r.count <= 0) return undefined;
    r.count--;
    return r.kind;
  }

  /* ------------------------------------------------------------ SPI face */

  setSpiClock(hz: number): void {
    if (hz > 0) this.spiHz = hz;
  }

  spiSelect(selected: boolean): void {
    this.selected = selected;
  }

  spiTransfer(data: Uint8Array): Uint8Array {
    const res = new Uint8Array(data.length);
    const byteUs = 8e6 / this.spiHz;
    for (let i = 0; i < data.length; i++) {
      this.now += byteUs;
      if (!this.selected || !this.alive) {
        res[i] = 0xff;
        continue;
      }
      this.stats.spiBytes++;
      res[i] = this.spiOut();
      this.spiIn(data[i]!);
    }
    return res;
  }

  private spiOut(): number {
    // A card not in SPI mode leaves MISO floating (pulled up).
    if (this._mode !== 'spi' && this.out.length === 0) return 0xff;
    for (;;) {
      const seg = this.out[0];
      if (seg) {
        if (this.now < seg.notBefore) return 0xff;
        const b = seg.bytes[seg.pos++]!;
        if (seg.pos >= seg.bytes.length) this.out.shift();
        return b;
      }
      if (this.busy()) return 0x00;
      if (this.streamBlock >= 0) {
        this.queueReadBlock(this.streamBlock++, true);
        continue;
      }
      return 0xff;
    }
  }

  private queue(bytes: number[] | Uint8Array, delayUs = 0): void {
    this.out.push({ bytes: bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes), pos: 0, notBefore: this.now + delayUs });
  }
  private respond(bytes: number[]): void {
    // NCR: the card answers 1..8 bytes after the command's last byte.
    const pad = new Array<number>(this.ncr - 1).fill(0xff);
    this.queue([...pad, ...bytes]);
  }

  private queueReadBlock(block: number, streaming: boolean): void {
    if (block >= this.sectorCount) {
      this.streamBlock = -1;
      this.queue([DataErrorToken.OUT_OF_RANGE], this.timing.readAccessUs);
      return;
    }
    if (this.pulledOut()) return;
    if (!streaming) this.streamBlock = -1;
    if (this.missing(block)) {
      this.streamBlock = -1;
      this.queue([DataErrorToken.ERROR], this.timing.readAccessUs);
      return;
    }
    const data = this.readBlock(block);
    this.queueDataBlock(data, this.timing.readAccessUs);
  }

  private queueDataBlock(data: Uint8Array, accessUs: number): void {
    let crc = crc16(data);
    if (this.takeReadCrcFault()) crc ^= 0x5a5a;
    const frame = new Uint8Array(data.length + 3);
    frame[0] = Token.START_BLOCK;
    frame.set(data, 1);
    frame[data.length + 1] = crc >> 8;
    frame[data.length + 2] = crc & 0xff;
    this.stats.busyMicros += accessUs;
    this.queue(frame, accessUs);
  }

  private spiIn(b: number): void {
    const rx = this.rx;
    if (rx.kind === 'write-token') {
      if (b === 0xff) return;
      if (!rx.multi && b === Token.START_BLOCK) {
        this.rx = { kind: 'write-data', multi: false, block: rx.block, buf: new Uint8Array(BLOCK + 2), n: 0 };
        return;
      }
      if (rx.multi && b === Token.START_MULTI_WRITE) {
        this.rx = { kind: 'write-data', multi: true, block: rx.block, buf: new Uint8Array(BLOCK + 2), n: 0 };
        return;
      }
      if (rx.multi && b === Token.STOP_TRAN) {
        // Stop-tran: one byte later the card goes busy while it finishes programming.
        this.rx = { kind: 'command' };
        this.queue([0xff]);
        this.startBusy(this.timing.stopBusyUs);
        return;
      }
      if ((b & 0xc0) !== 0x40) return;
      // A command instead of a data token abandons the write.
      this.rx = { kind: 'command' };
    } else if (rx.kind === 'write-data') {
      rx.buf[rx.n++] = b;
      if (rx.n === rx.buf.length) this.finishWrittenBlock(rx);
      return;
    }
    // Command parsing runs even while a block is streaming out: that is how CMD12 arrives.
    if (this.cmdLen === 0) {
      if ((b & 0xc0) !== 0x40 || this.busy()) return;
    }
    this.cmdBuf[this.cmdLen++] = b;
    if (this.cmdLen === 6) {
      this.cmdLen = 0;
      this.spiCommand(this.cmdBuf);
    }
  }

  private finishWrittenBlock(rx: Extract<SpiRx, { kind: 'write-data' }>): void {
    const data = rx.buf.subarray(0, BLOCK);
    const next: SpiRx = rx.multi ? { kind: 'write-token', multi: true, block: rx.block + 1 } : { kind: 'command' };
    this.rx = next;
    if (this.pulledOut()) return;
    const crcOk = !this.crcOn || crc16(data) === ((rx.buf[BLOCK]! << 8) | rx.buf[BLOCK + 1]!);
    const reject = this.takeWriteReject();
    let token: number = DataResponse.ACCEPTED;
    if (!crcOk || reject === 'crc') token = DataResponse.CRC_ERROR;
    else if (this.writeProtect) {
      token = DataResponse.WRITE_ERROR;
      this.spiPendingR2 |= R2.WP_VIOLATION;
    } else if (reject === 'write-error' || rx.block >= this.sectorCount || this.missing(rx.block)) {
      token = DataResponse.WRITE_ERROR;
      this.spiPendingR2 |= rx.block >= this.sectorCount ? R2.OUT_OF_RANGE : R2.ERROR;
    } else {
      this.writeBlock(rx.block, data.slice());
    }
    this.queue([token]);
    if (token === DataResponse.ACCEPTED) this.startBusy(this.timing.writeBusyUs);
    else if (rx.multi) {
      // After a rejected block the card waits for the host to stop the transfer.
      this.rx = { kind: 'write-token', multi: true, block: rx.block };
    }
  }

  private spiCommand(frame: Uint8Array): void {
    const index = frame[0]! & 0x3f;
    const arg = ((frame[1]! << 24) | (frame[2]! << 16) | (frame[3]! << 8) | frame[4]!) >>> 0;
    this.stats.commands++;
    const crcGood = crc7Byte(frame, 0, 5) === frame[5];

    if (this._mode !== 'spi') {
      // Not yet in SPI mode: the card speaks SD protocol, where every command's CRC counts.
      // Only CMD0 received with CS low switches it to SPI mode.
      if (index !== Cmd.GO_IDLE_STATE || !crcGood) return;
      this.powerCycleKeepTime();
      this._mode = 'spi';
      this.respond([R1.IDLE]);
      return;
    }

    // A new command ends whatever the card was still sending (only CMD12 keeps the stuff byte).
    if (index !== Cmd.STOP_TRANSMISSION) {
      this.out = [];
      this.streamBlock = -1;
    }
    const idle = this.state === 'idle' ? R1.IDLE : 0;
    // CMD8 is CRC-checked even with CRC off (spec 7.2.2); CMD0 too, as it may be the first.
    if ((this.crcOn || index === Cmd.SEND_IF_COND || index === Cmd.GO_IDLE_STATE) && !crcGood) {
      this.respond([idle | R1.COM_CRC_ERROR]);
      return;
    }
    const app = this.appCmd;
    this.appCmd = false;

    if (index === Cmd.STOP_TRANSMISSION) {
      // R1b: the byte after CMD12 is a stuff byte (the next data byte); then R1, then busy.
      const stuff = this.out[0] ? (this.out[0].bytes[this.out[0].pos] ?? 0xff) : 0xff;
      const wasStreaming = this.streamBlock >= 0 || this.out.length > 0;
      this.out = [];
      this.streamBlock = -1;
      this.queue([stuff, 0]);
      if (wasStreaming) this.startBusy(this.timing.stopBusyUs);
      return;
    }
    if (index === Cmd.GO_IDLE_STATE) {
      this.powerCycleKeepTime();
      this._mode = 'spi';
      this.respond([R1.IDLE]);
      return;
    }
    // In idle state only the initialisation commands are legal (spec 7.2.1 / 7.3.1.3).
    const initCmds: number[] = [Cmd.SEND_IF_COND, Cmd.APP_CMD, Cmd.READ_OCR, Cmd.CRC_ON_OFF];
    if (idle !== 0 && !(initCmds.includes(index) || (app && index === Cmd.SD_SEND_OP_COND))) {
      this.respond([idle | R1.ILLEGAL_COMMAND]);
      return;
    }

    if (app && index === Cmd.SD_SEND_OP_COND) {
      this.respond([this.acmd41(arg) ? 0 : R1.IDLE]);
      return;
    }
    switch (index) {
      case Cmd.SEND_IF_COND: {
        if (this.specVersion === 1) return this.respond([idle | R1.ILLEGAL_COMMAND]);
        // Voltage accepted only for the 2.7-3.6 V range (VHS = 0001); echo the check pattern.
        const vhs = (arg >>> 8) & 0xf;
        return this.respond([idle, 0x00, 0x00, vhs === 1 ? 1 : 0, arg & 0xff]);
      }
      case Cmd.APP_CMD:
        this.appCmd = true;
        return this.respond([idle]);
      case Cmd.READ_OCR: {
        const ocr = this.ocr();
        return this.respond([idle, ocr >>> 24, (ocr >>> 16) & 0xff, (ocr >>> 8) & 0xff, ocr & 0xff]);
      }
      case Cmd.CRC_ON_OFF:
        this.crcOn = (arg & 1) === 1;
        return this.respond([idle]);
      case Cmd.SET_BLOCKLEN:
        // Block length is fixed at 512 for SDHC; we do not do partial blocks on SDSC either.
        return this.respond([arg === BLOCK || this.highCapacity ? 0 : R1.PARAMETER_ERROR]);
      case Cmd.SEND_CSD:
      case Cmd.SEND_CID: {
        this.respond([0]);
        const reg = index === Cmd.SEND_CSD ? this.csd() : this.cidRegister();
        this.queueDataBlock(reg, 0);
        return;
      }
      case Cmd.SEND_STATUS: {
        const r2 = this.spiPendingR2;
        this.spiPendingR2 = 0;
        return this.respond([0, r2]);
      }
      case Cmd.READ_SINGLE_BLOCK:
      case Cmd.READ_MULTIPLE_BLOCK: {
        const { block, error } = this.blockOf(arg);
        this.respond([error]);
        if (error) return;
        this.queueReadBlock(block, false);
        if (index === Cmd.READ_MULTIPLE_BLOCK) this.streamBlock = block + 1;
        return;
      }
      case Cmd.WRITE_BLOCK:
      case Cmd.WRITE_MULTIPLE_BLOCK: {
        const { block, error } = this.blockOf(arg);
        this.respond([error]);
        if (error) return;
        this.rx = { kind: 'write-token', multi: index === Cmd.WRITE_MULTIPLE_BLOCK, block };
        return;
      }
      default:
        return this.respond([R1.ILLEGAL_COMMAND]);
    }
  }

  /** Reset on CMD0: like power-up but the card keeps its clock and stays inserted. */
  private powerCycleKeepTime(): void {
    const t = this.now;
    this.powerCycle();
    this.now = t;
  }

  /** ACMD41: counts initialisation progress; true once the card is ready. */
  private acmd41(arg: number): boolean {
    if (this.state !== 'idle') return true;
    // An SDHC/SDXC card never leaves idle for a host that does not set HCS (spec 4.2.3).
    if (this.highCapacity && (arg & ACMD41_HCS) === 0) return false;
    this.acmd41Calls++;
    if (this.acmd41Calls <= this.initPolls) return false;
    this.state = this._mode === 'spi' ? 'tran' : 'ready';
    return true;
  }

  private ocr(): number {
    let ocr: number = Ocr.VDD_27_36;
    if (this.state !== 'idle') {
      ocr |= Ocr.BUSY;
      if (this.highCapacity) ocr |= Ocr.CCS;
    }
    return ocr >>> 0;
  }

  /* ------------------------------------------------------------ SD-bus face */

  sdioSetSpeed(hz: number): void {
    if (hz > 0) this.sdioHz = hz;
  }

  private sdioTick(bits: number): void {
    this.now += (bits * 1e6) / this.sdioHz;
  }

  private statusWord(stateBefore: CardStateName): number {
    let s = this.pending | (CardState[stateBefore] << 9);
    // READY_FOR_DATA is low while the card programs (DAT0 busy).
    if (stateBefore !== 'prg') s |= Status.READY_FOR_DATA;
    if (this.appCmd) s |= Status.APP_CMD;
    this.pending = 0;
    return s >>> 0;
  }

  /** One SD-mode command as the card sees it on the CMD line. */
  private sdCommand(cmd: number, arg: number): SdResponse {
    this.stats.commands++;
    if (this.state === 'prg' && !this.busy()) this.state = 'tran';
    const app = this.appCmd;
    this.appCmd = false;
    const before = this.state;
    const addressed = (arg >>> 16) === this.rca;
    const illegal = (): SdResponse => {
      this.pending |= Status.ILLEGAL_COMMAND;
      return { kind: 'none' };
    };
    const r1 = (): SdResponse => ({ kind: 'short', value: this.statusWord(before), crc: true });

    if (cmd === Cmd.GO_IDLE_STATE) {
      this.powerCycleKeepTime();
      this._mode = 'sd';
      return { kind: 'none' };
    }
    if (app && cmd === Cmd.SD_SEND_OP_COND) {
      if (this.state !== 'idle') return illegal();
      // A zero voltage window is an inquiry: report the OCR without starting initialisation.
      if ((arg & Ocr.VDD_27_36) !== 0) this.acmd41(arg);
      return { kind: 'short', value: this.ocr(), crc: false };
    }
    if (app && cmd === Cmd.SET_BUS_WIDTH) {
      if (this.state !== 'tran') return illegal();
      this._busWidth = (arg & 3) === 2 ? 4 : 1;
      return r1();
    }
    switch (cmd) {
      case Cmd.SEND_IF_COND: {
        if (this.specVersion === 1 || this.state !== 'idle') return illegal();
        const vhs = (arg >>> 8) & 0xf;
        // A card that cannot work at the asked voltage stays silent.
        if (vhs !== 1) return { kind: 'none' };
        return { kind: 'short', value: (vhs << 8) | (arg & 0xff), crc: true };
      }
      case Cmd.APP_CMD:
        if (this.state !== 'idle' && !addressed) return { kind: 'none' };
        this.appCmd = true;
        return { kind: 'short', value: this.statusWord(before) | Status.APP_CMD, crc: true };
      case Cmd.ALL_SEND_CID:
        if (this.state !== 'ready') return illegal();
        this.state = 'ident';
        return { kind: 'long', reg: this.cidRegister() };
      case Cmd.SEND_RELATIVE_ADDR: {
        if (this.state !== 'ident' && this.state !== 'stby') return illegal();
        this.rca = this.publishedRca;
        this.state = 'stby';
        const s = this.statusWord(before);
        // R6 squeezes status bits 23, 22, 19 into 15, 14, 13 beside bits 12..0.
        const packed = (((s >>> 23) & 1) << 15) | (((s >>> 22) & 1) << 14) | (((s >>> 19) & 1) << 13) | (s & 0x1fff);
        return { kind: 'short', value: ((this.rca << 16) | packed) >>> 0, crc: true };
      }
      case Cmd.SEND_CSD:
      case Cmd.SEND_CID:
        if (this.state !== 'stby') return illegal();
        if (!addressed) return { kind: 'none' };
        return { kind: 'long', reg: cmd === Cmd.SEND_CSD ? this.csd() : this.cidRegister() };
      case Cmd.SELECT_CARD:
        if (!addressed) {
          // Another address deselects us: no answer from this card.
          if (this.state === 'tran' || this.state === 'prg') this.state = this.state === 'prg' ? 'prg' : 'stby';
          return { kind: 'none' };
        }
        if (this.state !== 'stby' && this.state !== 'tran') return illegal();
        this.state = 'tran';
        return r1();
      case Cmd.SEND_STATUS:
        if (['idle', 'ready', 'ident'].includes(this.state)) return illegal();
        if (!addressed) return { kind: 'none' };
        return r1();
      case Cmd.SET_BLOCKLEN:
        if (this.state !== 'tran') return illegal();
        if (arg !== BLOCK && !this.highCapacity) this.pending |= Status.BLOCK_LEN_ERROR;
        return r1();
      case Cmd.STOP_TRANSMISSION:
        if (this.state === 'data') {
          this.state = 'tran';
          return r1();
        }
        if (this.state === 'rcv') {
          this.state = 'prg';
          this.startBusy(this.timing.stopBusyUs);
          return r1();
        }
        return illegal();
      case Cmd.READ_SINGLE_BLOCK:
      case Cmd.READ_MULTIPLE_BLOCK:
      case Cmd.WRITE_BLOCK:
      case Cmd.WRITE_MULTIPLE_BLOCK: {
        if (this.state !== 'tran') return illegal();
        const { block, error } = this.blockOf(arg);
        const writing = cmd === Cmd.WRITE_BLOCK || cmd === Cmd.WRITE_MULTIPLE_BLOCK;
        const refused = error
          ? error === R1.ADDRESS_ERROR
            ? Status.ADDRESS_ERROR
            : Status.OUT_OF_RANGE
          : writing && this.writeProtect
            ? Status.WP_VIOLATION
            : 0;
        if (refused) {
          // Reported in this response and kept for the next CMD13: Klipper's MCU drops the
          // response of a data command, so the host can only learn it from CMD13.
          this.pending |= refused;
          const res = r1();
          this.pending |= refused;
          return res;
        }
        const res = r1();
        this.sdNextBlock = block;
        this.state = writing ? 'rcv' : 'data';
        return res;
      }
      default:
        return illegal();
    }
  }

  sdioSendCommand(cmd: number, argument: number, wait: SdioWaitType): SdioCommandResult {
    const r = this.sdioCommand(cmd, argument, wait);
    // A data command sent on its own moves no data here; a single-block one is over at once.
    if (this.state === 'data' && cmd === Cmd.READ_SINGLE_BLOCK) this.state = 'tran';
    return r;
  }

  private sdioCommand(cmd: number, argument: number, wait: SdioWaitType): SdioCommandResult {
    const empty = new Uint8Array(0);
    this.sdioTick(48 + (wait === SdioWait.LONG ? 136 : wait === SdioWait.SHORT ? 48 : 0) + 8);
    if (!this.alive || this._mode === 'spi') {
      // A card in SPI mode no longer listens to SD-bus commands until it is power-cycled.
      return { error: wait === SdioWait.NO_RESPONSE ? SdioError.OK : SdioError.CMD_RESPONSE_TIMEOUT, response: empty };
    }
    if (this._mode === 'unset') this._mode = 'sd';
    return this.controllerView(this.sdCommand(cmd & 0x3f, argument >>> 0), wait);
  }

  /** How the STM32 controller reports a response: see `SdioCommandResult`. */
  private controllerView(res: SdResponse, wait: SdioWaitType): SdioCommandResult {
    const empty = new Uint8Array(0);
    if (wait === SdioWait.NO_RESPONSE) return { error: SdioError.OK, response: empty };
    if (res.kind === 'none') return { error: SdioError.CMD_RESPONSE_TIMEOUT, response: empty };
    if (wait === SdioWait.SHORT) {
      if (res.kind === 'long') return { error: SdioError.CRC_FAIL, response: res.reg.slice(0, 4) };
      const v = res.value >>> 0;
      const response = Uint8Array.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
      return { error: res.crc ? SdioError.OK : SdioError.CRC_FAIL, response };
    }
    if (res.kind !== 'long') return { error: SdioError.CMD_RESPONSE_TIMEOUT, response: empty };
    const reg = res.reg.slice();
    reg[15] = reg[15]! & 0xfe; // the controller keeps bits 127..1; bit 0 reads as 0
    return { error: SdioError.OK, response: reg };
  }

  private validBlockSize(n: number): boolean {
    return n >= 1 && n <= 16384 && (n & (n - 1)) === 0;
  }

  sdioReadData(cmd: number, argument: number, blockSize: number, blockCount = 1): SdioDataResult {
    const empty = new Uint8Array(0);
    if (!this.validBlockSize(blockSize)) return { error: SdioError.WRONG_BLOCKSIZE, data: empty };
    const c = this.sdioCommand(cmd, argument, SdioWait.SHORT);
    if (c.error !== SdioError.OK) return { error: c.error, data: empty };
    if (this.state !== 'data') return { error: SdioError.DATA_TIMEOUT, data: empty };
    const out = new Uint8Array(blockSize * blockCount);
    let error: SdioErrorCode = SdioError.OK;
    for (let i = 0; i < blockCount; i++) {
      this.sdioTick(((BLOCK + 2) * 8) / this._busWidth + 2);
      this.stats.busyMicros += this.timing.readAccessUs;
      this.now += this.timing.readAccessUs;
      if (this.sdNextBlock >= this.sectorCount) {
        this.pending |= Status.OUT_OF_RANGE;
        error = SdioError.DATA_TIMEOUT;
        break;
      }
      if (this.pulledOut()) return { error: SdioError.DATA_TIMEOUT, data: empty };
      if (this.missing(this.sdNextBlock)) {
        this.pending |= Status.ERROR;
        error = SdioError.DATA_TIMEOUT;
        break;
      }
      const blk = this.readBlock(this.sdNextBlock++);
      if (blockSize !== BLOCK) {
        error = SdioError.CRC_FAIL; // the controller framed the wrong length: the CRC falls apart
      } else if (this.takeReadCrcFault()) {
        blk[0] = blk[0]! ^ 0x01; // a bit flipped on the wire
        error = SdioError.CRC_FAIL;
      }
      out.set(blk.subarray(0, blockSize), i * blockSize);
      if (error) break;
    }
    if (cmd === Cmd.READ_SINGLE_BLOCK) this.state = 'tran';
    return { error, data: out };
  }

  sdioWriteData(cmd: number, argument: number, data: Uint8Array, blockSize: number): { error: SdioErrorCode } {
    if (!this.validBlockSize(blockSize) || data.length % blockSize !== 0) return { error: SdioError.WRONG_BLOCKSIZE };
    const c = this.sdioCommand(cmd, argument, SdioWait.SHORT);
    if (c.error !== SdioError.OK) return { error: c.error };
    // A rejected command (write-protect, bad address) leaves the card in tran: no CRC status comes back.
    if (this.state !== 'rcv') return { error: SdioError.DATA_TIMEOUT };
    if (blockSize !== BLOCK) return { error: SdioError.CRC_FAIL };
    const blocks = data.length / BLOCK;
    for (let i = 0; i < blocks; i++) {
      this.sdioTick(((BLOCK + 2) * 8) / this._busWidth + 8);
      if (this.sdNextBlock >= this.sectorCount) {
        this.pending |= Status.OUT_OF_RANGE;
        return { error: SdioError.DATA_TIMEOUT };
      }
      if (this.pulledOut()) return { error: SdioError.DATA_TIMEOUT };
      const reject = this.missing(this.sdNextBlock) ? 'write-error' : this.takeWriteReject();
      if (reject) {
        // Negative CRC status from the card: the controller flags a data CRC failure.
        if (reject === 'write-error') this.pending |= Status.ERROR;
        if (cmd === Cmd.WRITE_BLOCK) this.state = 'tran';
        return { error: SdioError.CRC_FAIL };
      }
      this.writeBlock(this.sdNextBlock++, data.slice(i * BLOCK, (i + 1) * BLOCK));
      this.startBusy(this.timing.writeBusyUs);
    }
    if (cmd === Cmd.WRITE_BLOCK) this.state = 'prg';
    return { error: SdioError.OK };
  }
}

/**
 * The SD card's SPI-mode protocol, host side (SD Physical Layer spec, chapter 7), over any
 * `SpiBus`: through a Klipper MCU's `spi_transfer`/`spi_send`, or straight into an emulated
 * card. Initialisation follows the spec's flow (and what Klipper's script does), then reads
 * and writes use multi-block commands for runs of sectors and read ahead in one transfer, so
 * a slow link pays few round trips.
 */
import type { SpiBus } from './bus.js';
import { decodeCid } from './cid.js';
import { crc16 } from './crc16.js';
import { decodeCsd } from './csd.js';
import { hex, sdError } from './sd-errors.js';
import { SD_BLOCK, type SdCardInfo, type SdHost } from './sd-host.js';
import {
  ACMD41_HCS,
  Cmd,
  commandFrame,
  DataErrorToken,
  DataResponse,
  Ocr,
  R1,
  R2,
  Token,
} from './sd-protocol.js';
import { ones, SpiStream, type WaitBudget } from './spi-stream.js';
import type { DeviceError } from '../errors.js';
import { noTrace, type TraceListener } from '../progress.js';
import { SerialLock } from './serial-lock.js';

export interface SpiSdHostOptions {
  /** Switch on CRC checks of commands and data with CMD59, as Klipper does. Default true. */
  crc?: boolean;
  /** CMD0 attempts before "no card". Default 10. */
  resetTries?: number;
  /** SPI clock in Hz; turns the time limits below into byte budgets. Default 400 kHz. */
  busHz?: number;
  /** ACMD41 may take up to 1 s by the spec. Default 2000 ms. */
  initTimeoutMs?: number;
  /** Read access: 100 ms by the spec. Default 250 ms. */
  readTimeoutMs?: number;
  /** Write busy: 250 ms (SDSC) / 500 ms (SDHC) by the spec. Default 1000 ms. */
  busyTimeoutMs?: number;
  /** Blocks per CMD18/CMD25. Default 128. */
  maxBlocksPerCommand?: number;
  /** Attempts per run after a CRC error on the wire. Default 3. */
  retries?: number;
  /** Milliseconds clock (injectable for tests). Default `performance.now`. */
  now?: () => number;
  /** Debug trace (namespace "sdcard:spi"): init steps, retries, failures. */
  trace?: TraceListener;
}

const CMD_NAMES: Record<number, string> = {
  0: 'CMD0 (GO_IDLE_STATE)',
  8: 'CMD8 (SEND_IF_COND)',
  9: 'CMD9 (SEND_CSD)',
  10: 'CMD10 (SEND_CID)',
  12: 'CMD12 (STOP_TRANSMISSION)',
  13: 'CMD13 (SEND_STATUS)',
  16: 'CMD16 (SET_BLOCKLEN)',
  17: 'CMD17 (READ_SINGLE_BLOCK)',
  18: 'CMD18 (READ_MULTIPLE_BLOCK)',
  24: 'CMD24 (WRITE_BLOCK)',
  25: 'CMD25 (WRITE_MULTIPLE_BLOCK)',
  41: 'ACMD41 (SD_SEND_OP_COND)',
  55: 'CMD55 (APP_CMD)',
  58: 'CMD58 (READ_OCR)',
  59: 'CMD59 (CRC_ON_OFF)',
};

function cmdName(i: number): string {
  return CMD_NAMES[i] ?? `CMD${i}`;
}

/** Blocks of a multi-block read fetched per bus transfer (the bus pipelines one transfer). */
const READ_AHEAD_BLOCKS = 32;

/** NCR: a card answers within 8 bytes of the command (spec 7.5.4). */
const NCR_MAX = 8;
const CHECK_PATTERN = 0xaa;

class RetryableError extends Error {
  constructor(readonly error: DeviceError) {
    super(error.message);
  }
}

export class SpiSdHost implements SdHost {
  private readonly stream: SpiStream;
  private readonly opts: Required<Omit<SpiSdHostOptions, 'now' | 'trace'>>;
  private readonly now: () => number;
  private readonly trace: (message: string) => void;
  private _info: SdCardInfo | undefined;
  private readonly lock = new SerialLock();
  /** Learned read access time in bytes, so read-ahead usually catches the whole block. */
  private nacGuess = 8;
  /** Learned busy time after a write, in bytes. */
  private busyGuess: Record<'program' | 'stop', number> = { program: 8, stop: 8 };

  constructor(
    private readonly bus: SpiBus,
    options: SpiSdHostOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    const trace = options.trace ?? noTrace;
    this.trace = (m) => trace('sdcard:spi', m);
    this.opts = {
      crc: options.crc ?? true,
      resetTries: options.resetTries ?? 10,
      busHz: options.busHz ?? 400_000,
      initTimeoutMs: options.initTimeoutMs ?? 2000,
      readTimeoutMs: options.readTimeoutMs ?? 250,
      busyTimeoutMs: options.busyTimeoutMs ?? 1000,
      maxBlocksPerCommand: Math.max(1, options.maxBlocksPerCommand ?? 128),
      retries: Math.max(1, options.retries ?? 3),
    };
    this.stream = new SpiStream(bus, this.now);
  }

  get info(): SdCardInfo | undefined {
    return this._info;
  }

  private budget(ms: number): WaitBudget {
    return { ms, bytes: Math.ceil((ms / 1000) * (this.opts.busHz / 8)) + 64 };
  }

  /* ------------------------------------------------------------ commands */

  /** Send a command; resolve with R1 (0xFF when nothing answered). Extra response bytes stay in the stream. */
  private async command(index: number, arg: number, lookahead = NCR_MAX + 1): Promise<number> {
    await this.stream.begin(commandFrame(index, arg), lookahead);
    if (index === Cmd.STOP_TRANSMISSION) await this.stream.next(); // stuff byte (spec 7.5.2.2)
    for (let i = 0; i <= NCR_MAX; i++) {
      const b = await this.stream.next(NCR_MAX);
      if ((b & 0x80) === 0) return b;
    }
    return 0xff;
  }

  private async appCommand(index: number, arg: number): Promise<number> {
    const r = await this.command(Cmd.APP_CMD, 0);
    if (r & ~R1.IDLE) return r;
    return this.command(index, arg);
  }

  private commandError(index: number, r1: number): DeviceError {
    if (r1 === 0xff) {
      return sdError('sd-no-card', `the card stopped answering (${cmdName(index)})`, { command: index });
    }
    if (r1 & (R1.PARAMETER_ERROR | R1.ADDRESS_ERROR)) {
      return sdError('sd-out-of-range', `the card refused the address of ${cmdName(index)} (R1 ${hex(r1)})`, { command: index, r1 });
    }
    if (r1 & R1.IDLE && index !== Cmd.GO_IDLE_STATE) {
      return sdError('sd-not-initialized', `the card is back in idle state (R1 ${hex(r1)} to ${cmdName(index)}): it was reset or swapped`, {
        command: index,
        r1,
      });
    }
    return sdError('sd-command-failed', `the card answered ${cmdName(index)} with error R1 ${hex(r1)}`, { command: index, r1 });
  }

  /** R1 with a CRC error is worth a retry: a bit flipped on the way to the card. */
  private check(index: number, r1: number): void {
    if (r1 === 0) return;
    const e = this.commandError(index, r1);
    throw r1 & R1.COM_CRC_ERROR ? new RetryableError(e) : e;
  }

  /** Poll until MISO goes high; `kind` keeps separate guesses for programming and stop busy times. */
  private async waitNotBusy(ms: number, kind: 'program' | 'stop'): Promise<void> {
    const r = await this.stream.skipWhile((b) => b !== 0xff, this.budget(ms), this.busyGuess[kind]);
    if (!r) {
      throw sdError('sd-busy-timeout', `the card stayed busy for more than ${ms} ms`, { timeoutMs: ms });
    }
    this.busyGuess[kind] = Math.max(4, Math.min(4096, r.skipped + 4));
  }

  /* ------------------------------------------------------------ initialisation */

  init(): Promise<SdCardInfo> {
    return this.lock.run(() => this.initNow());
  }

  private async initNow(): Promise<SdCardInfo> {
    this._info = undefined;
    // ≥74 clocks before the first command (spec 6.4.1); Klipper's bus holds CS low, which cards accept.
    await this.bus.send(ones(10));
    this.stream.drop();
    // A card left busy by an interrupted session holds MISO low; let it finish first.
    if (!(await this.stream.skipWhile((b) => b === 0x00, this.budget(this.opts.busyTimeoutMs), 16))) {
      throw sdError('sd-busy-timeout', 'MISO stays low: the card is stuck busy, or no card is connected and the line has no pull-up', {});
    }

    let r1 = 0xff;
    let sawAnswer = false;
    for (let i = 0; i < this.opts.resetTries; i++) {
      r1 = await this.command(Cmd.GO_IDLE_STATE, 0);
      this.trace(`CMD0 try ${i + 1}: R1 ${hex(r1)}`);
      if (r1 === R1.IDLE) break;
      if (r1 !== 0xff) sawAnswer = true;
      // Finish any block the card still expects from an interrupted write (Klipper does this too).
      await this.bus.send(ones(SD_BLOCK + 8));
    }
    if (r1 !== R1.IDLE) {
      if (!sawAnswer) throw sdError('sd-no-card', `no card answered ${cmdName(0)} after ${this.opts.resetTries} tries`, { tries: this.opts.resetTries });
      throw sdError('sd-command-failed', `the card did not go idle on ${cmdName(0)} (R1 ${hex(r1)})`, { r1 });
    }

    // CMD8 tells v2 cards from v1 ones (which call it illegal) and checks the voltage.
    let specVersion: 1 | 2 = 2;
    r1 = await this.command(Cmd.SEND_IF_COND, 0x100 | CHECK_PATTERN, NCR_MAX + 5);
    if (r1 & R1.ILLEGAL_COMMAND) {
      specVersion = 1;
    } else if (r1 === R1.IDLE) {
      const r7 = await this.stream.take(4);
      if ((r7[2]! & 0xf) !== 1 || r7[3] !== CHECK_PATTERN) {
        throw sdError('sd-voltage', `the card rejected the 2.7-3.6 V range in ${cmdName(8)} (answer ${Array.from(r7, (b) => hex(b)).join(' ')})`, {
          r7: Array.from(r7),
        });
      }
    } else {
      throw this.commandError(Cmd.SEND_IF_COND, r1);
    }

    this.trace(`CMD8: physical layer version ${specVersion}`);
    let crcEnabled = false;
    if (this.opts.crc) {
      r1 = await this.command(Cmd.CRC_ON_OFF, 1);
      crcEnabled = r1 === R1.IDLE;
      this.trace(`CMD59: CRC ${crcEnabled ? 'on' : `not switched on (R1 ${hex(r1)})`}`);
    }

    // ACMD41 until the card leaves idle; HCS tells it we can do block addressing.
    const start = this.now();
    let polls = 0;
    for (;;) {
      r1 = await this.appCommand(Cmd.SD_SEND_OP_COND, specVersion === 2 ? ACMD41_HCS : 0);
      polls++;
      if (r1 === 0) break;
      if (r1 !== R1.IDLE) {
        if (r1 & R1.ILLEGAL_COMMAND) throw sdError('sd-unsupported-card', 'the card does not know ACMD41: it is probably an MMC card', { r1 });
        throw this.commandError(Cmd.SD_SEND_OP_COND, r1);
      }
      if (this.now() - start > this.opts.initTimeoutMs || polls > 100_000) {
        throw sdError('sd-init-timeout', `the card stayed in idle state for ${polls} ACMD41 polls (${Math.round(this.now() - start)} ms)`, { polls });
      }
    }

    // CMD58: the OCR's CCS bit says whether the card uses block addresses.
    r1 = await this.command(Cmd.READ_OCR, 0, NCR_MAX + 5);
    if (r1 !== 0) throw this.commandError(Cmd.READ_OCR, r1);
    const o = await this.stream.take(4);
    const ocr = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
    if ((ocr & Ocr.VDD_27_36) === 0) throw sdError('sd-voltage', `the card's OCR ${hex(ocr, 8)} lists no 2.7-3.6 V range`, { ocr });
    const highCapacity = specVersion === 2 && (ocr & Ocr.BUSY) !== 0 && (ocr & Ocr.CCS) !== 0;
    this.trace(`ACMD41 ready after ${polls} polls; OCR ${hex(ocr, 8)} (${highCapacity ? 'block' : 'byte'} addressing)`);

    if (!highCapacity) {
      r1 = await this.command(Cmd.SET_BLOCKLEN, SD_BLOCK);
      if (r1 !== 0) throw this.commandError(Cmd.SET_BLOCKLEN, r1);
    }

    const cidRaw = await this.readRegister(Cmd.SEND_CID);
    const csdRaw = await this.readRegister(Cmd.SEND_CSD);
    const cid = decodeCid(cidRaw);
    const csd = decodeCsd(csdRaw);
    if (!cid.crcOk) throw sdError('sd-register-crc', 'the CID register arrived with a bad CRC7', { cid: Array.from(cidRaw) });
    if (!csd.crcOk) throw sdError('sd-register-crc', 'the CSD register arrived with a bad CRC7', { csd: Array.from(csdRaw) });
    if (csd.capacityType === 'SDUC') throw sdError('sd-unsupported-card', 'SD Ultra Capacity (SDUC) cards are not supported', {});

    this._info = {
      bus: 'spi',
      specVersion,
      capacityType: csd.capacityType,
      highCapacity,
      capacityBytes: csd.capacityBytes,
      sectorCount: csd.sectorCount,
      writeProtected: csd.writeProtected,
      crcEnabled,
      cid,
      csd,
      cidRaw,
      csdRaw,
    };
    return this._info;
  }

  /** CID or CSD: a 16-byte data block after R1. */
  private async readRegister(index: number): Promise<Uint8Array> {
    let last: DeviceError | undefined;
    for (let attempt = 0; attempt < this.opts.retries; attempt++) {
      try {
        const r1 = await this.command(index, 0, NCR_MAX + 1 + 16 + 2 + 8);
        this.check(index, r1);
        const block = await this.readDataBlock(16, index);
        return block;
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        last = e.error;
      }
    }
    throw last!;
  }

  deinit(): Promise<void> {
    return this.lock.run(() => this.deinitNow());
  }

  private async deinitNow(): Promise<void> {
    this._info = undefined;
    const r1 = await this.command(Cmd.GO_IDLE_STATE, 0);
    if (r1 === R1.IDLE) await this.command(Cmd.CRC_ON_OFF, 0);
  }

  /* ------------------------------------------------------------ data */

  private ready(lba: number, count: number): SdCardInfo {
    const info = this._info;
    if (!info) throw sdError('sd-not-initialized', 'the SD card has not been initialised', {});
    if (!Number.isSafeInteger(lba) || lba < 0 || !Number.isSafeInteger(count) || count < 0 || lba + count > info.sectorCount) {
      throw sdError('sd-out-of-range', `sectors ${lba}..${lba + count - 1} lie outside the card (${info.sectorCount} sectors)`, {
        lba,
        count,
        sectorCount: info.sectorCount,
      });
    }
    return info;
  }

  private address(info: SdCardInfo, lba: number): number {
    return info.highCapacity ? lba : lba * SD_BLOCK;
  }

  /** Read one data block: wait for the start token, take the data and check its CRC16. */
  private async readDataBlock(size: number, index: number): Promise<Uint8Array> {
    await this.stream.want(this.nacGuess + 1 + size + 2);
    const t = await this.stream.skipWhile((b) => b === 0xff, this.budget(this.opts.readTimeoutMs), 16);
    if (!t) {
      // Silence from a card that was there a moment ago: ask it something simple to tell
      // "pulled out" from "cannot read this sector".
      const r1 = await this.command(Cmd.SEND_STATUS, 0, NCR_MAX + 2);
      if (r1 === 0xff) throw this.commandError(index, r1);
      throw sdError('sd-read-failed', `no data came after ${cmdName(index)} within ${this.opts.readTimeoutMs} ms`, { command: index });
    }
    this.nacGuess = Math.min(2048, t.skipped + 2);
    await this.stream.next();
    if (t.byte !== Token.START_BLOCK) {
      if ((t.byte & 0xf0) === 0) {
        const code = t.byte & DataErrorToken.OUT_OF_RANGE ? 'sd-out-of-range' : 'sd-read-failed';
        throw sdError(code, `the card sent data error token ${hex(t.byte)} for ${cmdName(index)}`, { command: index, token: t.byte });
      }
      throw new RetryableError(sdError('sd-read-failed', `expected a data token after ${cmdName(index)}, got ${hex(t.byte)}`, { command: index, token: t.byte }));
    }
    const block = await this.stream.take(size + 2);
    const got = (block[size]! << 8) | block[size + 1]!;
    const data = block.subarray(0, size);
    if (crc16(data) !== got) {
      throw new RetryableError(
        sdError('sd-data-crc', `a block from ${cmdName(index)} failed its CRC16 (got ${hex(got, 4)}, computed ${hex(crc16(data), 4)})`, {
          command: index,
        }),
      );
    }
    return data.slice();
  }

  readBlocks(lba: number, count: number): Promise<Uint8Array> {
    return this.lock.run(() => this.readBlocksNow(lba, count));
  }

  private async readBlocksNow(lba: number, count: number): Promise<Uint8Array> {
    const info = this.ready(lba, count);
    const out = new Uint8Array(count * SD_BLOCK);
    let done = 0;
    let failures = 0;
    while (done < count) {
      const n = Math.min(count - done, this.opts.maxBlocksPerCommand);
      try {
        done += await this.readRun(info, lba + done, n, out, done);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        this.trace(`read at sector ${lba + done}: ${e.message}; retrying`);
        if (++failures >= this.opts.retries) throw e.error;
        this.stream.drop();
      }
    }
    return out;
  }

  /** One CMD17 or CMD18; returns blocks read into `out` (all of them, or throws). */
  private async readRun(info: SdCardInfo, lba: number, n: number, out: Uint8Array, at: number): Promise<number> {
    const index = n === 1 ? Cmd.READ_SINGLE_BLOCK : Cmd.READ_MULTIPLE_BLOCK;
    const perBlock = this.nacGuess + 1 + SD_BLOCK + 2;
    // Read ahead the whole run in one transfer (capped): the bus pipelines it into messages.
    const r1 = await this.command(index, this.address(info, lba), NCR_MAX + 1 + Math.min(n, READ_AHEAD_BLOCKS) * perBlock);
    this.check(index, r1);
    let got = 0;
    try {
      for (; got < n; got++) {
        if (this.stream.available < perBlock) await this.stream.want(Math.min(n - got, READ_AHEAD_BLOCKS) * perBlock);
        out.set(await this.readDataBlock(SD_BLOCK, index), (at + got) * SD_BLOCK);
      }
    } finally {
      if (index === Cmd.READ_MULTIPLE_BLOCK) await this.stopTransmission();
    }
    return got;
  }

  private async stopTransmission(): Promise<void> {
    const r1 = await this.command(Cmd.STOP_TRANSMISSION, 0, NCR_MAX + 2 + this.busyGuess.stop);
    // Some cards flag the interrupted block's state in R1 here; only silence is fatal.
    if (r1 === 0xff) throw this.commandError(Cmd.STOP_TRANSMISSION, r1);
    await this.waitNotBusy(this.opts.busyTimeoutMs, 'stop');
  }

  writeBlocks(lba: number, data: Uint8Array): Promise<void> {
    return this.lock.run(() => this.writeBlocksNow(lba, data));
  }

  private async writeBlocksNow(lba: number, data: Uint8Array): Promise<void> {
    if (data.length % SD_BLOCK !== 0) {
      throw sdError('sd-out-of-range', `${data.length} bytes is not a whole number of ${SD_BLOCK}-byte blocks`, { bytes: data.length });
    }
    const count = data.length / SD_BLOCK;
    const info = this.ready(lba, count);
    if (info.writeProtected) {
      throw sdError('sd-write-protected', 'the card is write-protected (its CSD says so)', {
        permanent: info.csd.permanentWriteProtect,
        temporary: info.csd.temporaryWriteProtect,
      });
    }
    let done = 0;
    let failures = 0;
    while (done < count) {
      const n = Math.min(count - done, this.opts.maxBlocksPerCommand);
      try {
        await this.writeRun(info, lba + done, data.subarray(done * SD_BLOCK, (done + n) * SD_BLOCK));
        done += n;
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        this.trace(`write at sector ${lba + done}: ${e.message}; retrying`);
        if (++failures >= this.opts.retries) throw e.error;
        this.stream.drop();
      }
    }
  }

  private blockFrame(token: number, block: Uint8Array, gap: number): Uint8Array {
    const f = new Uint8Array(gap + 1 + SD_BLOCK + 2);
    f.fill(0xff, 0, gap);
    f[gap] = token;
    f.set(block, gap + 1);
    const crc = crc16(block);
    f[gap + 1 + SD_BLOCK] = crc >> 8;
    f[gap + 2 + SD_BLOCK] = crc & 0xff;
    return f;
  }

  /** After a block: the data-response token, then busy until the card has programmed it. */
  private async dataResponse(lba: number): Promise<void> {
    this.stream.drop();
    // One transfer usually covers the response token and the whole busy period.
    await this.stream.want(2 + this.busyGuess.program);
    const r = await this.stream.skipWhile((b) => b === 0xff, { ms: this.opts.readTimeoutMs, bytes: NCR_MAX + 2 }, 2 + this.busyGuess.program);
    if (!r) throw sdError('sd-write-rejected', `no data response after writing sector ${lba}`, { lba });
    await this.stream.next();
    const status = r.byte & DataResponse.MASK;
    if (status === DataResponse.CRC_ERROR) {
      throw new RetryableError(sdError('sd-data-crc', `the card reported a CRC error in the data for sector ${lba}`, { lba, token: r.byte }));
    }
    if (status !== DataResponse.ACCEPTED) {
      // A write error: wait out the busy period, then ask CMD13 why.
      await this.waitNotBusy(this.opts.busyTimeoutMs, 'program').catch(() => undefined);
      throw sdError('sd-write-rejected', `the card rejected sector ${lba} (data response ${hex(r.byte)})`, { lba, token: r.byte });
    }
    await this.waitNotBusy(this.opts.busyTimeoutMs, 'program');
  }

  private async writeRun(info: SdCardInfo, lba: number, data: Uint8Array): Promise<void> {
    const n = data.length / SD_BLOCK;
    const multi = n > 1;
    const index = multi ? Cmd.WRITE_MULTIPLE_BLOCK : Cmd.WRITE_BLOCK;
    const r1 = await this.command(index, this.address(info, lba));
    this.check(index, r1);
    let i = 0;
    try {
      for (; i < n; i++) {
        const block = data.subarray(i * SD_BLOCK, (i + 1) * SD_BLOCK);
        // One 0xFF of gap before the token (NWR) on the first block.
        await this.bus.send(this.blockFrame(multi ? Token.START_MULTI_WRITE : Token.START_BLOCK, block, i === 0 ? 1 : 0));
        await this.dataResponse(lba + i);
      }
    } catch (e) {
      if (multi) await this.stopMultiWrite().catch(() => undefined);
      // CMD13 names the cause when it can (write-protect, out of range); else the first error stands.
      await this.checkStatusAfterWrite(lba + i);
      throw e;
    }
    if (multi) await this.stopMultiWrite();
    await this.checkStatusAfterWrite(lba + n - 1);
  }

  private async stopMultiWrite(): Promise<void> {
    // Stop-tran token, one byte, then busy while the card finishes (spec 7.3.3.2).
    await this.stream.begin(Uint8Array.of(Token.STOP_TRAN), 2 + this.busyGuess.stop);
    await this.stream.next();
    await this.waitNotBusy(this.opts.busyTimeoutMs, 'stop');
  }

  /** CMD13: the R2 status tells write-protect violations and errors the data response hides. */
  private async checkStatusAfterWrite(lba: number): Promise<void> {
    const r1 = await this.command(Cmd.SEND_STATUS, 0, NCR_MAX + 2);
    if (r1 === 0xff) throw this.commandError(Cmd.SEND_STATUS, r1);
    const r2 = await this.stream.next();
    if (r2 & R2.WP_VIOLATION) {
      throw sdError('sd-write-protected', `the card refused to write sector ${lba}: it is write-protected`, { lba, r2 });
    }
    if (r2 & R2.OUT_OF_RANGE) throw sdError('sd-out-of-range', `the card says sector ${lba} is out of range`, { lba, r2 });
    if (r2 !== 0 || (r1 & ~R1.IDLE) !== 0) {
      throw sdError('sd-write-rejected', `the card reports an error after writing sector ${lba} (R1 ${hex(r1)}, R2 ${hex(r2)})`, { lba, r1, r2 });
    }
  }
}

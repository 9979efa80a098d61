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
import { isResponseLost, LossBudget, type SpiResponseLost } from './lost-response.js';
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
  /**
   * Answers the link may lose (SpiResponseLost) in a row without progress (a block read or
   * written, an initialisation step) before the operation fails. Default 24: at a byte error
   * rate of 1e-3 about half the attempts at a block lose an answer (a 512-byte block comes
   * back in ten 64-byte messages), so 24 losses in a row (some twenty failed attempts) come
   * about once in a million blocks, while a link that loses every answer still fails within
   * a second. Each operation also has an overall bound (see `lossBudget`).
   */
  lossesWithoutProgress?: number;
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

/** Progress of a multi-block run, kept when it stops early. */
interface RunProgress {
  blocks: number;
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
  /**
   * Blocks clocked per transfer of a multi-block read. After a lost answer the rest of that
   * transfer is wasted, so it shrinks on a loss and grows back on runs without one.
   */
  private readAhead = READ_AHEAD_BLOCKS;
  private losses: LossBudget;

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
      lossesWithoutProgress: Math.max(1, options.lossesWithoutProgress ?? 24),
    };
    this.stream = new SpiStream(bus, this.now);
    this.losses = this.lossBudget(0);
  }

  /** A fresh loss budget for an operation on `blocks` blocks. */
  private lossBudget(blocks: number): LossBudget {
    return LossBudget.forBlocks(this.opts.lossesWithoutProgress, blocks);
  }

  /** Count a lost answer against the operation's budget (throws when it is spent) and trace it. */
  private lostAt(e: unknown, where: string): void {
    if (!isResponseLost(e)) throw e;
    this.trace(`${where}: answer lost on the link at byte ${e.offset}; recovering`);
    this.losses.lost(e, where);
  }

  /**
   * Run `exchange` (a command and what the driver reads after it) again until none of its
   * answer is lost. The card did get the command (the MCU ran it); `resync` gets the card and
   * the stream back in step before the next attempt.
   */
  private async retryLost<T>(where: string, exchange: () => Promise<T>, resync: () => Promise<void> = () => this.resync()): Promise<T> {
    for (;;) {
      try {
        return await exchange();
      } catch (e) {
        this.lostAt(e, where);
        await resync();
      }
    }
  }

  /**
   * After a plain command whose answer was lost: clock until MISO idles high, so the card has
   * finished its response (R7, OCR, a register block) before the command is repeated.
   */
  private async resync(): Promise<void> {
    this.stream.drop();
    await this.waitHigh(this.opts.busyTimeoutMs);
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
    const skipped = await this.waitHigh(ms, this.busyGuess[kind]);
    if (skipped !== undefined) this.busyGuess[kind] = Math.max(4, Math.min(4096, skipped + 4));
  }

  /**
   * Clock until MISO reads 0xFF. Busy only ever ends, and a card that is done idles high, so
   * a poll whose answer was lost is simply polled again. Resolves with the bytes skipped in
   * the last poll that came back whole (undefined after a loss).
   */
  private async waitHigh(ms: number, guess = 16): Promise<number | undefined> {
    const start = this.now();
    let afterLoss = false;
    for (;;) {
      try {
        const left = Math.max(1, ms - (this.now() - start));
        const r = await this.stream.skipWhile((b) => b !== 0xff, this.budget(left), guess);
        if (!r) throw sdError('sd-busy-timeout', `the card stayed busy for more than ${ms} ms`, { timeoutMs: ms });
        return afterLoss ? undefined : r.skipped;
      } catch (e) {
        this.lostAt(e, 'waiting for the card to finish');
        this.stream.drop();
        afterLoss = true;
      }
    }
  }

  /* ------------------------------------------------------------ initialisation */

  init(): Promise<SdCardInfo> {
    return this.lock.run(() => this.initNow());
  }

  private async initNow(): Promise<SdCardInfo> {
    this._info = undefined;
    this.losses = this.lossBudget(0);
    // ≥74 clocks before the first command (spec 6.4.1); Klipper's bus holds CS low, which cards accept.
    await this.bus.send(ones(10));
    this.stream.drop();
    // A card left busy by an interrupted session holds MISO low; let it finish first.
    if (!(await this.waitWhileLow())) {
      throw sdError('sd-busy-timeout', 'MISO stays low: the card is stuck busy, or no card is connected and the line has no pull-up', {});
    }

    let r1 = 0xff;
    let sawAnswer = false;
    for (let i = 0; i < this.opts.resetTries; i++) {
      try {
        r1 = await this.command(Cmd.GO_IDLE_STATE, 0);
      } catch (e) {
        // CMD0 is what starts over anyway: a lost answer just costs a try.
        this.lostAt(e, 'CMD0 (GO_IDLE_STATE)');
        r1 = 0xff;
        sawAnswer = true;
      }
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
    this.losses.progress();

    // CMD8 tells v2 cards from v1 ones (which call it illegal) and checks the voltage.
    const { r1: r8, r7 } = await this.retryLost(cmdName(8), async () => {
      const r = await this.command(Cmd.SEND_IF_COND, 0x100 | CHECK_PATTERN, NCR_MAX + 5);
      return { r1: r, r7: r === R1.IDLE ? await this.stream.take(4) : undefined };
    });
    let specVersion: 1 | 2 = 2;
    if (r8 & R1.ILLEGAL_COMMAND) {
      specVersion = 1;
    } else if (r8 === R1.IDLE && r7) {
      if ((r7[2]! & 0xf) !== 1 || r7[3] !== CHECK_PATTERN) {
        throw sdError('sd-voltage', `the card rejected the 2.7-3.6 V range in ${cmdName(8)} (answer ${Array.from(r7, (b) => hex(b)).join(' ')})`, {
          r7: Array.from(r7),
        });
      }
    } else {
      throw this.commandError(Cmd.SEND_IF_COND, r8);
    }
    this.losses.progress();

    this.trace(`CMD8: physical layer version ${specVersion}`);
    let crcEnabled = false;
    if (this.opts.crc) {
      r1 = await this.retryLost(cmdName(59), () => this.command(Cmd.CRC_ON_OFF, 1));
      crcEnabled = r1 === R1.IDLE;
      this.trace(`CMD59: CRC ${crcEnabled ? 'on' : `not switched on (R1 ${hex(r1)})`}`);
      this.losses.progress();
    }

    // ACMD41 until the card leaves idle; HCS tells it we can do block addressing.
    const start = this.now();
    let polls = 0;
    for (;;) {
      try {
        r1 = await this.appCommand(Cmd.SD_SEND_OP_COND, specVersion === 2 ? ACMD41_HCS : 0);
      } catch (e) {
        // Asking again is what this loop does; only get back in step first.
        this.lostAt(e, cmdName(41));
        await this.resync();
        r1 = R1.IDLE;
      }
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
    this.losses.progress();

    // CMD58: the OCR's CCS bit says whether the card uses block addresses.
    const o = await this.retryLost(cmdName(58), async () => {
      const r = await this.command(Cmd.READ_OCR, 0, NCR_MAX + 5);
      if (r !== 0) throw this.commandError(Cmd.READ_OCR, r);
      return this.stream.take(4);
    });
    const ocr = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
    if ((ocr & Ocr.VDD_27_36) === 0) throw sdError('sd-voltage', `the card's OCR ${hex(ocr, 8)} lists no 2.7-3.6 V range`, { ocr });
    const highCapacity = specVersion === 2 && (ocr & Ocr.BUSY) !== 0 && (ocr & Ocr.CCS) !== 0;
    this.trace(`ACMD41 ready after ${polls} polls; OCR ${hex(ocr, 8)} (${highCapacity ? 'block' : 'byte'} addressing)`);
    this.losses.progress();

    if (!highCapacity) {
      r1 = await this.retryLost(cmdName(16), () => this.command(Cmd.SET_BLOCKLEN, SD_BLOCK));
      if (r1 !== 0) throw this.commandError(Cmd.SET_BLOCKLEN, r1);
    }

    const cidRaw = await this.readRegister(Cmd.SEND_CID);
    this.losses.progress();
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

  /** Before the first command: wait while MISO is held low (by a card still busy), bounded. */
  private async waitWhileLow(): Promise<boolean> {
    const start = this.now();
    for (;;) {
      try {
        const left = Math.max(1, this.opts.busyTimeoutMs - (this.now() - start));
        return (await this.stream.skipWhile((b) => b === 0x00, this.budget(left), 16)) !== undefined;
      } catch (e) {
        this.lostAt(e, 'waiting for MISO to go high');
        this.stream.drop();
      }
    }
  }

  /** CID or CSD: a 16-byte data block after R1. */
  private async readRegister(index: number): Promise<Uint8Array> {
    let last: DeviceError | undefined;
    for (let attempt = 0; attempt < this.opts.retries; attempt++) {
      try {
        return await this.retryLost(cmdName(index), async () => {
          const r1 = await this.command(index, 0, NCR_MAX + 1 + 16 + 2 + 8);
          this.check(index, r1);
          return this.readDataBlock(16, index);
        });
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
    this.losses = this.lossBudget(0);
    const r1 = await this.retryLost(cmdName(0), () => this.command(Cmd.GO_IDLE_STATE, 0));
    if (r1 === R1.IDLE) await this.retryLost(cmdName(59), () => this.command(Cmd.CRC_ON_OFF, 0));
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
    this.losses = this.lossBudget(count);
    let done = 0;
    let failures = 0;
    while (done < count) {
      const n = Math.min(count - done, this.opts.maxBlocksPerCommand);
      const run: RunProgress = { blocks: 0 };
      try {
        await this.readRun(info, lba + done, n, out, done, run);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        this.trace(`read at sector ${lba + done + run.blocks}: ${e.message}; retrying`);
        if (++failures >= this.opts.retries) throw e.error;
        this.stream.drop();
      } finally {
        done += run.blocks;
      }
    }
    return out;
  }

  /**
   * One CMD17 or CMD18 for up to `n` blocks, counting the blocks read into `out` in `run`.
   * Every block is taken whole and CRC-checked. When an answer is lost on the link, the
   * blocks before the hole are kept, the card is stopped, and the run ends early: the caller
   * starts the next one at the first block not read.
   */
  private async readRun(info: SdCardInfo, lba: number, n: number, out: Uint8Array, at: number, run: RunProgress): Promise<void> {
    const index = n === 1 ? Cmd.READ_SINGLE_BLOCK : Cmd.READ_MULTIPLE_BLOCK;
    const perBlock = this.nacGuess + 1 + SD_BLOCK + 2;
    let r1: number;
    try {
      // Read ahead in one transfer (capped): the bus pipelines it into messages.
      r1 = await this.command(index, this.address(info, lba), NCR_MAX + 1 + Math.min(n, this.readAhead) * perBlock);
    } catch (e) {
      this.lostAt(e, `${cmdName(index)} at sector ${lba}`);
      this.readAhead = Math.max(1, this.readAhead >> 1);
      // The card got the command and may be sending data: stop it (for CMD17 too: a card
      // parses commands while it sends, which is how CMD12 works), then start again.
      await this.stopTransmission();
      return;
    }
    this.check(index, r1);
    let lost: SpiResponseLost | undefined;
    try {
      for (; run.blocks < n; run.blocks++) {
        if (this.stream.available < perBlock) await this.stream.want(Math.min(n - run.blocks, this.readAhead) * perBlock);
        out.set(await this.readDataBlock(SD_BLOCK, index), (at + run.blocks) * SD_BLOCK);
        this.losses.progress();
      }
    } catch (e) {
      if (!isResponseLost(e)) throw e;
      lost = e;
    } finally {
      if (index === Cmd.READ_MULTIPLE_BLOCK || lost) await this.stopTransmission();
    }
    if (lost) {
      this.lostAt(lost, `reading sector ${lba + run.blocks}`);
      this.readAhead = Math.max(1, this.readAhead >> 1);
    } else if (this.readAhead < READ_AHEAD_BLOCKS && n > 1) {
      this.readAhead = Math.min(READ_AHEAD_BLOCKS, this.readAhead * 2);
    }
  }

  /** CMD12, then busy while the card stops. */
  private async stopTransmission(): Promise<void> {
    let r1: number;
    try {
      r1 = await this.command(Cmd.STOP_TRANSMISSION, 0, NCR_MAX + 2 + this.busyGuess.stop);
    } catch (e) {
      // The card got CMD12 (the MCU clocked it); only its answer is unknown. Wait it out.
      this.lostAt(e, cmdName(Cmd.STOP_TRANSMISSION));
      this.stream.drop();
      await this.waitHigh(this.opts.busyTimeoutMs);
      return;
    }
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
    this.losses = this.lossBudget(count);
    let done = 0;
    let failures = 0;
    while (done < count) {
      const n = Math.min(count - done, this.opts.maxBlocksPerCommand);
      const run: RunProgress = { blocks: 0 };
      try {
        await this.writeRun(info, lba + done, data.subarray(done * SD_BLOCK, (done + n) * SD_BLOCK), run);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        this.trace(`write at sector ${lba + done + run.blocks}: ${e.message}; retrying`);
        if (++failures >= this.opts.retries) throw e.error;
        this.stream.drop();
      } finally {
        done += run.blocks;
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
    // Accepted: from here a lost poll is only polled again (waitHigh).
    await this.waitNotBusy(this.opts.busyTimeoutMs, 'program');
  }

  /**
   * One CMD25 for the blocks of `data`, counting in `run` the blocks the card confirmed
   * (data response "accepted", busy over). Every write is a multi-block write, even of one
   * block: when the answer to the command is lost the card may be waiting for data, and the
   * stop-tran token ends that wait safely (a card that refused the command ignores it), where
   * after a CMD24 the only way out would be to send it a block. When a data response is lost,
   * the card is left to finish, the write is stopped and CMD13 asked for errors the token
   * would have shown; the run ends early and the caller writes again from the first block
   * not confirmed (writing a block twice with the same data is harmless).
   */
  private async writeRun(info: SdCardInfo, lba: number, data: Uint8Array, run: RunProgress): Promise<void> {
    const n = data.length / SD_BLOCK;
    const index = Cmd.WRITE_MULTIPLE_BLOCK;
    let r1: number;
    try {
      r1 = await this.command(index, this.address(info, lba));
    } catch (e) {
      this.lostAt(e, `${cmdName(index)} at sector ${lba}`);
      await this.stopMultiWrite();
      await this.checkStatusAfterWrite(lba);
      return;
    }
    this.check(index, r1);
    try {
      for (; run.blocks < n; run.blocks++) {
        const block = data.subarray(run.blocks * SD_BLOCK, (run.blocks + 1) * SD_BLOCK);
        // One 0xFF of gap before the token (NWR) on the first block.
        await this.bus.send(this.blockFrame(Token.START_MULTI_WRITE, block, run.blocks === 0 ? 1 : 0));
        await this.dataResponse(lba + run.blocks);
        this.losses.progress();
      }
    } catch (e) {
      if (isResponseLost(e)) {
        this.lostAt(e, `the data response for sector ${lba + run.blocks}`);
        this.stream.drop();
        await this.waitHigh(this.opts.busyTimeoutMs);
        await this.stopMultiWrite();
        await this.checkStatusAfterWrite(lba + run.blocks);
        return;
      }
      await this.stopMultiWrite().catch(() => undefined);
      // CMD13 names the cause when it can (write-protect, out of range); else the first error stands.
      await this.checkStatusAfterWrite(lba + run.blocks);
      throw e;
    }
    await this.stopMultiWrite();
    await this.checkStatusAfterWrite(lba + n - 1);
  }

  private async stopMultiWrite(): Promise<void> {
    // Stop-tran token, one byte, then busy while the card finishes (spec 7.3.3.2).
    try {
      await this.stream.begin(Uint8Array.of(Token.STOP_TRAN), 2 + this.busyGuess.stop);
      await this.stream.next();
    } catch (e) {
      // The card got the token; what it answered does not matter, only that it finishes.
      this.lostAt(e, 'the stop-tran token');
      this.stream.drop();
      await this.waitHigh(this.opts.busyTimeoutMs);
      return;
    }
    await this.waitNotBusy(this.opts.busyTimeoutMs, 'stop');
  }

  /** CMD13: the R2 status tells write-protect violations and errors the data response hides. */
  private async checkStatusAfterWrite(lba: number): Promise<void> {
    const { r1, r2 } = await this.retryLost(cmdName(Cmd.SEND_STATUS), async () => {
      const r = await this.command(Cmd.SEND_STATUS, 0, NCR_MAX + 2);
      if (r === 0xff) throw this.commandError(Cmd.SEND_STATUS, r);
      return { r1: r, r2: await this.stream.next() };
    });
    if (r2 & R2.WP_VIOLATION) {
      throw sdError('sd-write-protected', `the card refused to write sector ${lba}: it is write-protected`, { lba, r2 });
    }
    if (r2 & R2.OUT_OF_RANGE) throw sdError('sd-out-of-range', `the card says sector ${lba} is out of range`, { lba, r2 });
    if (r2 !== 0 || (r1 & ~R1.IDLE) !== 0) {
      throw sdError('sd-write-rejected', `the card reports an error after writing sector ${lba} (R1 ${hex(r1)}, R2 ${hex(r2)})`, { lba, r1, r2 });
    }
  }
}

/**
 * The SPI conversation with the card below the level of blocks (SD Physical Layer spec,
 * chapter 7): a command and its R1, MISO held low while busy, a data block with its start
 * token and CRC16. It learns the card's access and busy times, so that one transfer usually
 * reads a whole answer.
 */
import type { SpiBus } from './bus.js';
import { cmdName } from './command-names.js';
import { crc16 } from './crc16.js';
import type { LossAccount } from './loss-account.js';
import { hex, sdError } from './sd-errors.js';
import { Cmd, commandFrame, DataErrorToken, R1, Token } from './sd-protocol.js';
import { ones, SpiStream, type WaitBudget } from './spi-stream.js';
import type { DeviceError } from '../errors.js';

/** NCR: a card answers within 8 bytes of the command (spec 7.5.4). */
export const NCR_MAX = 8;

/** The time limits of the SPI driver (see `SpiSdHostOptions`). */
export interface SpiTiming {
  busHz: number;
  readTimeoutMs: number;
  busyTimeoutMs: number;
}

export class SpiCardChannel {
  readonly stream: SpiStream;
  /** Learned read access time in bytes, so read-ahead usually catches the whole block. */
  nacGuess = 8;
  /** Learned busy time after a write, in bytes. */
  readonly busyGuess: Record<'program' | 'stop', number> = { program: 8, stop: 8 };

  constructor(
    readonly bus: SpiBus,
    readonly timing: SpiTiming,
    private readonly losses: LossAccount,
    private readonly now: () => number,
  ) {
    this.stream = new SpiStream(bus, now);
  }

  /** Milliseconds as a bound in bytes clocked at the bus rate, whichever runs out first. */
  budget(ms: number): WaitBudget {
    return { ms, bytes: Math.ceil((ms / 1000) * (this.timing.busHz / 8)) + 64 };
  }

  /** Send a command; resolve with R1 (0xFF when nothing answered). Extra response bytes stay in the stream. */
  async command(index: number, arg: number, lookahead = NCR_MAX + 1): Promise<number> {
    await this.stream.begin(commandFrame(index, arg), lookahead);
    if (index === Cmd.STOP_TRANSMISSION) await this.stream.next(); // stuff byte (spec 7.5.2.2)
    for (let i = 0; i <= NCR_MAX; i++) {
      const b = await this.stream.next(NCR_MAX);
      if ((b & 0x80) === 0) return b;
    }
    return 0xff;
  }

  async appCommand(index: number, arg: number): Promise<number> {
    const r = await this.command(Cmd.APP_CMD, 0);
    if (r & ~R1.IDLE) return r;
    return this.command(index, arg);
  }

  /** The error an R1 names; `transient` when a retry may fix it. */
  commandError(index: number, r1: number, transient = false): DeviceError {
    if (r1 === 0xff) {
      return sdError('sd-no-card', `the card stopped answering (${cmdName(index)})`, { command: index }, { transient });
    }
    if (r1 & (R1.PARAMETER_ERROR | R1.ADDRESS_ERROR)) {
      return sdError('sd-out-of-range', `the card refused the address of ${cmdName(index)} (R1 ${hex(r1)})`, { command: index, r1 }, { transient });
    }
    if (r1 & R1.IDLE && index !== Cmd.GO_IDLE_STATE) {
      return sdError(
        'sd-not-initialized',
        `the card is back in idle state (R1 ${hex(r1)} to ${cmdName(index)}): it was reset or swapped`,
        { command: index, r1 },
        { transient },
      );
    }
    return sdError('sd-command-failed', `the card answered ${cmdName(index)} with error R1 ${hex(r1)}`, { command: index, r1 }, { transient });
  }

  /** R1 with a CRC error is worth a retry: a bit flipped on the way to the card. */
  check(index: number, r1: number): void {
    if (r1 === 0) return;
    throw this.commandError(index, r1, (r1 & R1.COM_CRC_ERROR) !== 0);
  }

  /**
   * Run `exchange` (a command and what the driver reads after it) again until none of its
   * answer is lost. The card did get the command (the MCU ran it); `resync` gets the card and
   * the stream back in step before the next attempt.
   */
  retryLost<T>(where: string, exchange: () => Promise<T>): Promise<T> {
    return this.losses.retry(where, exchange, () => this.resync());
  }

  /**
   * After a plain command whose answer was lost: clock until MISO idles high, so the card has
   * finished its response (R7, OCR, a register block) before the command is repeated.
   */
  async resync(): Promise<void> {
    this.stream.drop();
    await this.waitHigh(this.timing.busyTimeoutMs);
  }

  /** Poll until MISO goes high; `kind` keeps separate guesses for programming and stop busy times. */
  async waitNotBusy(kind: 'program' | 'stop'): Promise<void> {
    const skipped = await this.waitHigh(this.timing.busyTimeoutMs, this.busyGuess[kind]);
    if (skipped !== undefined) this.busyGuess[kind] = Math.max(4, Math.min(4096, skipped + 4));
  }

  /**
   * Clock until MISO reads 0xFF. Busy only ever ends, and a card that is done idles high, so
   * a poll whose answer was lost is simply polled again. Resolves with the bytes skipped in
   * the last poll that came back whole (undefined after a loss).
   */
  async waitHigh(ms: number, guess = 16): Promise<number | undefined> {
    const start = this.now();
    let afterLoss = false;
    for (;;) {
      try {
        const left = Math.max(1, ms - (this.now() - start));
        const r = await this.stream.skipWhile((b) => b !== 0xff, this.budget(left), guess);
        if (!r) throw sdError('sd-busy-timeout', `the card stayed busy for more than ${ms} ms`, { timeoutMs: ms });
        return afterLoss ? undefined : r.skipped;
      } catch (e) {
        this.losses.lost(e, 'waiting for the card to finish');
        this.stream.drop();
        afterLoss = true;
      }
    }
  }

  /** Before the first command: wait while MISO is held low (by a card still busy), bounded. */
  async waitWhileLow(): Promise<boolean> {
    const start = this.now();
    for (;;) {
      try {
        const left = Math.max(1, this.timing.busyTimeoutMs - (this.now() - start));
        return (await this.stream.skipWhile((b) => b === 0x00, this.budget(left), 16)) !== undefined;
      } catch (e) {
        this.losses.lost(e, 'waiting for MISO to go high');
        this.stream.drop();
      }
    }
  }

  /** Clock `n` bytes of 0xFF out without listening (no round trip). */
  idle(n: number): Promise<void> {
    return this.bus.send(ones(n));
  }

  /** Read one data block: wait for the start token, take the data and check its CRC16. */
  async readDataBlock(size: number, index: number): Promise<Uint8Array> {
    await this.stream.want(this.nacGuess + 1 + size + 2);
    const t = await this.stream.skipWhile((b) => b === 0xff, this.budget(this.timing.readTimeoutMs), 16);
    if (!t) {
      // Silence from a card that was there a moment ago: ask it something simple to tell
      // "pulled out" from "cannot read this sector".
      const r1 = await this.command(Cmd.SEND_STATUS, 0, NCR_MAX + 2);
      if (r1 === 0xff) throw this.commandError(index, r1);
      throw sdError('sd-read-failed', `no data came after ${cmdName(index)} within ${this.timing.readTimeoutMs} ms`, { command: index });
    }
    this.nacGuess = Math.min(2048, t.skipped + 2);
    await this.stream.next();
    if (t.byte !== Token.START_BLOCK) {
      if ((t.byte & 0xf0) === 0) {
        const code = t.byte & DataErrorToken.OUT_OF_RANGE ? 'sd-out-of-range' : 'sd-read-failed';
        throw sdError(code, `the card sent data error token ${hex(t.byte)} for ${cmdName(index)}`, { command: index, token: t.byte });
      }
      throw sdError('sd-read-failed', `expected a data token after ${cmdName(index)}, got ${hex(t.byte)}`, { command: index, token: t.byte }, { transient: true });
    }
    const block = await this.stream.take(size + 2);
    const got = (block[size]! << 8) | block[size + 1]!;
    const data = block.subarray(0, size);
    if (crc16(data) !== got) {
      throw sdError(
        'sd-data-crc',
        `a block from ${cmdName(index)} failed its CRC16 (got ${hex(got, 4)}, computed ${hex(crc16(data), 4)})`,
        { command: index },
        { transient: true },
      );
    }
    return data.slice();
  }
}

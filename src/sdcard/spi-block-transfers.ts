/**
 * Reads and writes of block runs over SPI: CMD18/CMD25 for runs of sectors (CMD17 for one),
 * read ahead in one transfer, so a slow link pays few round trips. A run that meets a lost
 * answer keeps the blocks before the hole and ends early; one that meets a transient card
 * error (a CRC error on the wire) is tried again a few times.
 */
import { cmdName } from './command-names.js';
import type { BlockTransfers } from './host-core.js';
import { crc16 } from './crc16.js';
import type { LossAccount } from './loss-account.js';
import { isResponseLost, type SpiResponseLost } from './lost-response.js';
import { hex, isTransient, sdError } from './sd-errors.js';
import { SD_BLOCK } from './sd-host.js';
import { Cmd, DataResponse, R1, R2, Token } from './sd-protocol.js';
import { NCR_MAX, type SpiCardChannel } from './spi-card-channel.js';

/** Blocks of a multi-block read fetched per bus transfer (the bus pipelines one transfer). */
const READ_AHEAD_BLOCKS = 32;

export interface SpiRunLimits {
  /** Blocks per CMD18/CMD25. */
  maxBlocksPerCommand: number;
  /** Attempts per run after a transient card error. */
  retries: number;
}

/** A run of blocks: its first sector, the address its command takes, and how many it moved. */
interface Run {
  lba: number;
  address: number;
  blocks: number;
}

export class SpiBlockTransfers implements BlockTransfers {
  /**
   * Blocks clocked per transfer of a multi-block read. After a lost answer the rest of that
   * transfer is wasted, so it shrinks on a loss and grows back on runs without one.
   */
  private readAhead = READ_AHEAD_BLOCKS;

  constructor(
    private readonly card: SpiCardChannel,
    private readonly limits: SpiRunLimits,
    private readonly losses: LossAccount,
    private readonly trace: (message: string) => void,
  ) {}

  async read(lba: number, count: number, address: (lba: number) => number): Promise<Uint8Array> {
    const out = new Uint8Array(count * SD_BLOCK);
    await this.runs('read', lba, count, address, (run, n, done) => this.readRun(run, n, out, done));
    return out;
  }

  write(lba: number, data: Uint8Array, address: (lba: number) => number): Promise<void> {
    return this.runs('write', lba, data.length / SD_BLOCK, address, (run, n, done) =>
      this.writeRun(run, data.subarray(done * SD_BLOCK, (done + n) * SD_BLOCK)),
    );
  }

  /**
   * Cover `count` blocks with runs of at most `maxBlocksPerCommand`, each starting at the first
   * block not yet moved; a transient error costs one of `retries` attempts.
   */
  private async runs(
    kind: 'read' | 'write',
    lba: number,
    count: number,
    address: (lba: number) => number,
    move: (run: Run, n: number, done: number) => Promise<void>,
  ): Promise<void> {
    let done = 0;
    let failures = 0;
    while (done < count) {
      const n = Math.min(count - done, this.limits.maxBlocksPerCommand);
      const run: Run = { lba: lba + done, address: address(lba + done), blocks: 0 };
      try {
        await move(run, n, done);
      } catch (e) {
        if (!isTransient(e)) throw e;
        this.trace(`${kind} at sector ${lba + done + run.blocks}: ${e.message}; retrying`);
        if (++failures >= this.limits.retries) throw e;
        this.card.stream.drop();
      } finally {
        done += run.blocks;
      }
    }
  }

  /**
   * One CMD17 or CMD18 for up to `n` blocks, counting the blocks read into `out` in `run`.
   * Every block is taken whole and CRC-checked. When an answer is lost on the link, the
   * blocks before the hole are kept, the card is stopped, and the run ends early: the caller
   * starts the next one at the first block not read.
   */
  private async readRun(run: Run, n: number, out: Uint8Array, at: number): Promise<void> {
    const { card } = this;
    const index = n === 1 ? Cmd.READ_SINGLE_BLOCK : Cmd.READ_MULTIPLE_BLOCK;
    const perBlock = card.nacGuess + 1 + SD_BLOCK + 2;
    let r1: number;
    try {
      // Read ahead in one transfer (capped): the bus pipelines it into messages.
      r1 = await card.command(index, run.address, NCR_MAX + 1 + Math.min(n, this.readAhead) * perBlock);
    } catch (e) {
      this.losses.lost(e, `${cmdName(index)} at sector ${run.lba}`);
      this.readAhead = Math.max(1, this.readAhead >> 1);
      // The card got the command and may be sending data: stop it (for CMD17 too: a card
      // parses commands while it sends, which is how CMD12 works), then start again.
      await this.stopTransmission();
      return;
    }
    this.trace(`${cmdName(index)} arg 0x${run.address.toString(16)} (sector ${run.lba}, ${n} block(s)): R1 0x${r1.toString(16).padStart(2, '0')}`);
    card.check(index, r1);
    let lost: SpiResponseLost | undefined;
    try {
      for (; run.blocks < n; run.blocks++) {
        if (card.stream.available < perBlock) await card.stream.want(Math.min(n - run.blocks, this.readAhead) * perBlock);
        out.set(await card.readDataBlock(SD_BLOCK, index), (at + run.blocks) * SD_BLOCK);
        this.losses.progress();
      }
    } catch (e) {
      if (!isResponseLost(e)) throw e;
      lost = e;
    } finally {
      if (index === Cmd.READ_MULTIPLE_BLOCK || lost) await this.stopTransmission();
    }
    if (lost) {
      this.losses.lost(lost, `reading sector ${run.lba + run.blocks}`);
      this.readAhead = Math.max(1, this.readAhead >> 1);
    } else if (this.readAhead < READ_AHEAD_BLOCKS && n > 1) {
      this.readAhead = Math.min(READ_AHEAD_BLOCKS, this.readAhead * 2);
    }
  }

  /** CMD12, then busy while the card stops. */
  private async stopTransmission(): Promise<void> {
    const { card } = this;
    let r1: number;
    try {
      r1 = await card.command(Cmd.STOP_TRANSMISSION, 0, NCR_MAX + 2 + card.busyGuess.stop);
    } catch (e) {
      // The card got CMD12 (the MCU clocked it); only its answer is unknown. Wait it out.
      this.losses.lost(e, cmdName(Cmd.STOP_TRANSMISSION));
      card.stream.drop();
      await card.waitHigh(card.timing.busyTimeoutMs);
      return;
    }
    // Some cards flag the interrupted block's state in R1 here; only silence is fatal.
    if (r1 === 0xff) throw card.commandError(Cmd.STOP_TRANSMISSION, r1);
    await card.waitNotBusy('stop');
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
  private async writeRun(run: Run, data: Uint8Array): Promise<void> {
    const { card, losses } = this;
    const n = data.length / SD_BLOCK;
    const index = Cmd.WRITE_MULTIPLE_BLOCK;
    let r1: number;
    try {
      r1 = await card.command(index, run.address);
    } catch (e) {
      losses.lost(e, `${cmdName(index)} at sector ${run.lba}`);
      await this.stopMultiWrite();
      await this.checkStatusAfterWrite(run.lba);
      return;
    }
    this.trace(`${cmdName(index)} arg 0x${run.address.toString(16)} (sector ${run.lba}, ${n} block(s)): R1 0x${r1.toString(16).padStart(2, '0')}`);
    card.check(index, r1);
    try {
      for (; run.blocks < n; run.blocks++) {
        const block = data.subarray(run.blocks * SD_BLOCK, (run.blocks + 1) * SD_BLOCK);
        // One 0xFF of gap before the token (NWR) on the first block. The poll for the data
        // response follows the block's messages without waiting for their acks (the bus keeps
        // the order), so a block costs one round trip, not two. Its answer shows the MCU
        // clocked the whole block out, so the next block need not wait for the acks either; a
        // link that fails meanwhile fails the next operation.
        const sent = card.bus.send(blockFrame(Token.START_MULTI_WRITE, block, run.blocks === 0 ? 1 : 0));
        sent.catch(() => undefined);
        try {
          await this.dataResponse(run.lba + run.blocks);
        } catch (e) {
          await sent;
          throw e;
        }
        losses.progress();
      }
    } catch (e) {
      if (isResponseLost(e)) {
        losses.lost(e, `the data response for sector ${run.lba + run.blocks}`);
        card.stream.drop();
        await card.waitHigh(card.timing.busyTimeoutMs);
        await this.stopMultiWrite();
        await this.checkStatusAfterWrite(run.lba + run.blocks);
        return;
      }
      await this.stopMultiWrite().catch(() => undefined);
      // CMD13 names the cause when it can (write-protect, out of range); else the first error stands.
      await this.checkStatusAfterWrite(run.lba + run.blocks);
      throw e;
    }
    await this.stopMultiWrite();
    await this.checkStatusAfterWrite(run.lba + n - 1);
  }

  /** After a block: the data-response token, then busy until the card has programmed it. */
  private async dataResponse(lba: number): Promise<void> {
    const { card } = this;
    card.stream.drop();
    // One transfer usually covers the response token and the whole busy period.
    await card.stream.want(2 + card.busyGuess.program);
    const r = await card.stream.skipWhile((b) => b === 0xff, { ms: card.timing.readTimeoutMs, bytes: NCR_MAX + 2 }, 2 + card.busyGuess.program);
    if (!r) throw sdError('sd-write-rejected', `no data response after writing sector ${lba}`, { lba });
    await card.stream.next();
    const status = r.byte & DataResponse.MASK;
    if (status === DataResponse.CRC_ERROR) {
      throw sdError('sd-data-crc', `the card reported a CRC error in the data for sector ${lba}`, { lba, token: r.byte }, { transient: true });
    }
    if (status !== DataResponse.ACCEPTED) {
      // A write error: wait out the busy period, then ask CMD13 why.
      await card.waitNotBusy('program').catch(() => undefined);
      throw sdError('sd-write-rejected', `the card rejected sector ${lba} (data response ${hex(r.byte)})`, { lba, token: r.byte });
    }
    // Accepted: from here a lost poll is only polled again (waitHigh).
    await card.waitNotBusy('program');
  }

  private async stopMultiWrite(): Promise<void> {
    const { card } = this;
    // Stop-tran token, one byte, then busy while the card finishes (spec 7.3.3.2).
    try {
      await card.stream.begin(Uint8Array.of(Token.STOP_TRAN), 2 + card.busyGuess.stop);
      await card.stream.next();
    } catch (e) {
      // The card got the token; what it answered does not matter, only that it finishes.
      this.losses.lost(e, 'the stop-tran token');
      card.stream.drop();
      await card.waitHigh(card.timing.busyTimeoutMs);
      return;
    }
    await card.waitNotBusy('stop');
  }

  /** CMD13: the R2 status tells write-protect violations and errors the data response hides. */
  private async checkStatusAfterWrite(lba: number): Promise<void> {
    const { card } = this;
    const { r1, r2 } = await card.retryLost(cmdName(Cmd.SEND_STATUS), async () => {
      const r = await card.command(Cmd.SEND_STATUS, 0, NCR_MAX + 2);
      if (r === 0xff) throw card.commandError(Cmd.SEND_STATUS, r);
      return { r1: r, r2: await card.stream.next() };
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

/** A data block as CMD25 sends it: `gap` bytes of 0xFF, the token, the data, its CRC16. */
function blockFrame(token: number, block: Uint8Array, gap: number): Uint8Array {
  const f = new Uint8Array(gap + 1 + SD_BLOCK + 2);
  f.fill(0xff, 0, gap);
  f[gap] = token;
  f.set(block, gap + 1);
  const crc = crc16(block);
  f[gap + 1 + SD_BLOCK] = crc >> 8;
  f[gap + 2 + SD_BLOCK] = crc & 0xff;
  return f;
}

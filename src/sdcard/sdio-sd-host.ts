/**
 * The SD-bus protocol, host side, over Klipper's `sdio_*` commands (`SdioBus`). The sequence
 * is the spec's card identification mode (CMD0, CMD8, ACMD41, CMD2, CMD3, CMD9, CMD7) as
 * Klipper's script runs it. Klipper's MCU moves one block per `sdio_read_data`/
 * `sdio_write_data` through its buffer, so there are no multi-block commands here; instead the
 * driver queues many blocks' messages at once and lets the bus pipeline them.
 */
import type { SdioBus, SdioCommandReply } from './bus.js';
import { SdioError, SdioWait } from './sdio-codes.js';
import { decodeCid } from './cid.js';
import { decodeCsd } from './csd.js';
import { hex, SDIO_SILENT_HINT, sdError } from './sd-errors.js';
import { SD_BLOCK, type SdCardInfo, type SdHost } from './sd-host.js';
import { ACMD41_HCS, CardState, Cmd, Ocr, Status, STATUS_ERROR_MASK, statusState } from './sd-protocol.js';
import type { DeviceError } from '../errors.js';
import { isSdioResponseLost, LossBudget } from './lost-response.js';
import { noTrace, type TraceListener } from '../progress.js';
import { SerialLock } from './serial-lock.js';

export interface SdioSdHostOptions {
  /** Bus clock after identification. Default 1 MHz, what Klipper's script sets. */
  speedHz?: number;
  /** ACMD41 may take up to 1 s by the spec. Default 2000 ms. */
  initTimeoutMs?: number;
  /** Write busy: 250/500 ms by the spec. Default 1000 ms. */
  busyTimeoutMs?: number;
  /** Attempts per block after a CRC failure on the wire. Default 3. */
  retries?: number;
  /** Blocks whose messages are queued at once. Default 16. */
  pipelineDepth?: number;
  /**
   * Answers the link may lose in a row without progress (a block read or written, the card
   * identified) before the operation fails with "link-lossy". Default 24.
   */
  lossesWithoutProgress?: number;
  /** Milliseconds clock (injectable for tests). Default `performance.now`. */
  now?: () => number;
  /** Debug trace (namespace "sdcard:sdio"): init steps, retries, failures. */
  trace?: TraceListener;
}

const ERROR_NAMES: Record<number, string> = {
  1: 'error',
  2: 'timeout',
  3: 'no response',
  4: 'CRC failure',
  5: 'wrong response',
  6: 'wrong block size',
  7: 'data timeout',
  8: 'read overrun',
  9: 'write underrun',
  10: 'no data memory',
};

function errName(e: number): string {
  return ERROR_NAMES[e] ?? `error ${e}`;
}

function word(r: Uint8Array): number {
  return ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
}

class Retryable extends Error {
  constructor(readonly error: DeviceError) {
    super(error.message);
  }
}

export class SdioSdHost implements SdHost {
  private readonly opts: Required<Omit<SdioSdHostOptions, 'now' | 'trace'>>;
  private readonly now: () => number;
  private readonly trace: (message: string) => void;
  private _info: SdCardInfo | undefined;
  private readonly lock = new SerialLock();
  private rca = 0;
  private losses: LossBudget;

  constructor(
    private readonly bus: SdioBus,
    options: SdioSdHostOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    const trace = options.trace ?? noTrace;
    this.trace = (m) => trace('sdcard:sdio', m);
    this.opts = {
      speedHz: options.speedHz ?? 1_000_000,
      initTimeoutMs: options.initTimeoutMs ?? 2000,
      busyTimeoutMs: options.busyTimeoutMs ?? 1000,
      retries: Math.max(1, options.retries ?? 3),
      pipelineDepth: Math.max(1, options.pipelineDepth ?? 16),
      lossesWithoutProgress: Math.max(1, options.lossesWithoutProgress ?? 24),
    };
    this.losses = this.lossBudget(0);
  }

  /** A fresh loss budget for an operation on `blocks` blocks. */
  private lossBudget(blocks: number): LossBudget {
    return LossBudget.forBlocks(this.opts.lossesWithoutProgress, blocks);
  }

  /** Count a lost answer (SdioResponseLost) against the budget and trace it; rethrow anything else. */
  private lostAt(e: unknown, where: string): void {
    if (!isSdioResponseLost(e)) throw e;
    this.trace(`${where}: the answer to ${e.command} was lost on the link; recovering`);
    this.losses.lost(e, where);
  }

  /** Send again until the answer arrives: for commands the card may be given twice. */
  private async retryLost<T>(where: string, exchange: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await exchange();
      } catch (e) {
        this.lostAt(e, where);
      }
    }
  }

  get info(): SdCardInfo | undefined {
    return this._info;
  }

  private silent(what: string): DeviceError {
    return sdError('sd-no-card', `no card answered ${what} on the SDIO bus`, { command: what }, SDIO_SILENT_HINT);
  }

  /** A command with an R1 answer whose error bits must be clear. */
  private async r1(cmd: number, arg: number, what: string): Promise<number> {
    const r = await this.bus.sendCommand(cmd, arg, SdioWait.SHORT);
    if (r.error === SdioError.CMD_RESPONSE_TIMEOUT || r.error === SdioError.TIMEOUT) throw this.silent(what);
    if (r.error !== SdioError.OK || r.response.length !== 4) {
      throw sdError('sd-command-failed', `${what} failed: ${errName(r.error)}`, { command: cmd, error: r.error });
    }
    const status = word(r.response);
    if (status & STATUS_ERROR_MASK) {
      throw sdError('sd-command-failed', `the card reported status ${hex(status, 8)} to ${what}`, { command: cmd, status });
    }
    return status;
  }

  private async appCmd(): Promise<SdioCommandReply> {
    const r = await this.bus.sendCommand(Cmd.APP_CMD, this.rca << 16, SdioWait.SHORT);
    if (r.error === SdioError.CMD_RESPONSE_TIMEOUT || r.error === SdioError.TIMEOUT) throw this.silent('CMD55 (APP_CMD)');
    return r;
  }

  private async register(cmd: number, arg: number, what: string): Promise<Uint8Array> {
    const r = await this.bus.sendCommand(cmd, arg, SdioWait.LONG);
    if (r.error === SdioError.CMD_RESPONSE_TIMEOUT || r.error === SdioError.TIMEOUT) throw this.silent(what);
    if (r.error !== SdioError.OK || r.response.length !== 16) {
      throw sdError('sd-register-crc', `${what} failed: ${errName(r.error)}`, { command: cmd, error: r.error });
    }
    return r.response;
  }

  init(): Promise<SdCardInfo> {
    return this.lock.run(() => this.initNow());
  }

  /**
   * Identification moves the card through states (idle, ready, ident, stby, tran) and some
   * steps cannot be repeated where they left it: a second CMD2 is illegal in ident, an ACMD41
   * sent again without its CMD55 is a CMD41. So a lost answer starts over from CMD0.
   */
  private async initNow(): Promise<SdCardInfo> {
    this.losses = this.lossBudget(0);
    for (;;) {
      try {
        const info = await this.identify();
        this.losses.progress();
        return info;
      } catch (e) {
        this.lostAt(e, 'identifying the card');
      }
    }
  }

  private async identify(): Promise<SdCardInfo> {
    this._info = undefined;
    this.rca = 0;
    const r0 = await this.bus.sendCommand(Cmd.GO_IDLE_STATE, 0, SdioWait.NO_RESPONSE);
    if (r0.error !== SdioError.OK) throw sdError('sd-command-failed', `CMD0 could not be sent: ${errName(r0.error)}`, { error: r0.error });

    // CMD8: v2 cards echo the check pattern; v1 cards (and absent ones) stay silent.
    let specVersion: 1 | 2 = 2;
    const r8 = await this.bus.sendCommand(Cmd.SEND_IF_COND, 0x1aa, SdioWait.SHORT);
    if (r8.error === SdioError.CMD_RESPONSE_TIMEOUT) specVersion = 1;
    else if (r8.error !== SdioError.OK || r8.response.length !== 4) {
      throw sdError('sd-command-failed', `CMD8 (SEND_IF_COND) failed: ${errName(r8.error)}`, { error: r8.error });
    } else if ((r8.response[2]! & 0xf) !== 1 || r8.response[3] !== 0xaa) {
      throw sdError('sd-voltage', `the card rejected the 2.7-3.6 V range in CMD8`, { response: Array.from(r8.response) });
    }

    const start = this.now();
    let ocr = 0;
    for (let polls = 1; ; polls++) {
      await this.appCmd();
      const r = await this.bus.sendCommand(Cmd.SD_SEND_OP_COND, (specVersion === 2 ? ACMD41_HCS : 0) | Ocr.VDD_27_36, SdioWait.SHORT);
      // R3 carries no CRC, so the controller reports CRC_FAIL on a good answer (Klipper ignores it too).
      if (r.error !== SdioError.OK && r.error !== SdioError.CRC_FAIL) throw this.silent('ACMD41 (SD_SEND_OP_COND)');
      ocr = word(r.response);
      if (ocr & Ocr.BUSY) break;
      if (this.now() - start > this.opts.initTimeoutMs || polls > 100_000) {
        throw sdError('sd-init-timeout', `the card stayed busy initialising for ${polls} ACMD41 polls`, { polls });
      }
    }
    if ((ocr & Ocr.VDD_27_36) === 0) throw sdError('sd-voltage', `the card's OCR ${hex(ocr, 8)} lists no 2.7-3.6 V range`, { ocr });
    const highCapacity = specVersion === 2 && (ocr & Ocr.CCS) !== 0;
    this.trace(`version ${specVersion} card ready; OCR ${hex(ocr, 8)} (${highCapacity ? 'block' : 'byte'} addressing)`);

    const cidRaw = await this.register(Cmd.ALL_SEND_CID, 0, 'CMD2 (ALL_SEND_CID)');
    const r3 = await this.bus.sendCommand(Cmd.SEND_RELATIVE_ADDR, 0, SdioWait.SHORT);
    if (r3.error !== SdioError.OK || r3.response.length !== 4) throw this.silent('CMD3 (SEND_RELATIVE_ADDR)');
    // R6: RCA in the top half, then status bits 23, 22, 19 packed into 15..13.
    if (r3.response[2]! & 0xe0) throw sdError('sd-command-failed', 'the card reported an error publishing its address (CMD3)', { response: Array.from(r3.response) });
    this.rca = (r3.response[0]! << 8) | r3.response[1]!;
    this.trace(`CMD3: RCA ${hex(this.rca, 4)}`);
    const csdRaw = await this.register(Cmd.SEND_CSD, this.rca << 16, 'CMD9 (SEND_CSD)');
    await this.r1(Cmd.SELECT_CARD, this.rca << 16, 'CMD7 (SELECT_CARD)');
    await this.bus.setSpeed(this.opts.speedHz);
    await this.r1(Cmd.SET_BLOCKLEN, SD_BLOCK, 'CMD16 (SET_BLOCKLEN)');

    const cid = decodeCid(cidRaw);
    const csd = decodeCsd(csdRaw);
    if (!cid.crcOk) throw sdError('sd-register-crc', 'the CID register arrived with a bad CRC7', { cid: Array.from(cidRaw) });
    if (!csd.crcOk) throw sdError('sd-register-crc', 'the CSD register arrived with a bad CRC7', { csd: Array.from(csdRaw) });
    if (csd.capacityType === 'SDUC') throw sdError('sd-unsupported-card', 'SD Ultra Capacity (SDUC) cards are not supported', {});
    this._info = {
      bus: 'sdio',
      specVersion,
      capacityType: csd.capacityType,
      highCapacity,
      capacityBytes: csd.capacityBytes,
      sectorCount: csd.sectorCount,
      writeProtected: csd.writeProtected,
      crcEnabled: true,
      rca: this.rca,
      cid,
      csd,
      cidRaw,
      csdRaw,
    };
    return this._info;
  }

  deinit(): Promise<void> {
    return this.lock.run(() => this.deinitNow());
  }

  private async deinitNow(): Promise<void> {
    this._info = undefined;
    this.losses = this.lossBudget(0);
    await this.retryLost('CMD0 (GO_IDLE_STATE)', () => this.bus.sendCommand(Cmd.GO_IDLE_STATE, 0, SdioWait.NO_RESPONSE));
  }

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

  /**
   * CMD13 status, without judging it. Asked again when the answer is lost; the error bits it
   * carried are then lost too (the card clears them once reported), but the data commands'
   * own results still tell a failed transfer.
   */
  private async status(): Promise<number> {
    const r = await this.retryLost('CMD13 (SEND_STATUS)', () => this.bus.sendCommand(Cmd.SEND_STATUS, this.rca << 16, SdioWait.SHORT));
    if (r.error === SdioError.CMD_RESPONSE_TIMEOUT || r.error === SdioError.TIMEOUT) throw this.silent('CMD13 (SEND_STATUS)');
    if (r.error !== SdioError.OK || r.response.length !== 4) {
      throw sdError('sd-command-failed', `CMD13 (SEND_STATUS) failed: ${errName(r.error)}`, { error: r.error });
    }
    return word(r.response);
  }

  /** Turn a failed data transfer into the most specific error CMD13 allows. */
  private async explain(what: 'read' | 'write', lba: number, error: number, known?: SdioCommandReply): Promise<DeviceError | Retryable> {
    // Error bits are cleared once reported: fold in a status poll that was already in flight.
    const earlier = known && known.error === SdioError.OK && known.response.length === 4 ? word(known.response) : 0;
    // If the card is gone, this CMD13 is what says so.
    const s = (earlier | (await this.status())) >>> 0;
    const d = { lba, error, status: s };
    if (s & Status.WP_VIOLATION) return sdError('sd-write-protected', `the card refused to write sector ${lba}: it is write-protected`, d);
    if (s & (Status.OUT_OF_RANGE | Status.ADDRESS_ERROR)) return sdError('sd-out-of-range', `the card says sector ${lba} is out of range`, d);
    if (error === SdioError.CRC_FAIL && !(s & (Status.ERROR | Status.CARD_ECC_FAILED))) {
      return new Retryable(sdError('sd-data-crc', `sector ${lba}: ${what} data failed its CRC ${this.opts.retries} times`, d));
    }
    if (what === 'write') return sdError('sd-write-rejected', `the card rejected sector ${lba} (${errName(error)}, status ${hex(s, 8)})`, d);
    return sdError('sd-read-failed', `the card could not read sector ${lba} (${errName(error)}, status ${hex(s, 8)})`, d);
  }

  readBlocks(lba: number, count: number): Promise<Uint8Array> {
    return this.lock.run(() => this.readBlocksNow(lba, count));
  }

  private async readBlocksNow(lba: number, count: number): Promise<Uint8Array> {
    const info = this.ready(lba, count);
    const out = new Uint8Array(count * SD_BLOCK);
    this.losses = this.lossBudget(count);
    let todo = Array.from({ length: count }, (_, i) => i);
    for (let attempt = 1; todo.length > 0; ) {
      const failed: { i: number; error: number }[] = [];
      const lost: number[] = [];
      for (let k = 0; k < todo.length; k += this.opts.pipelineDepth) {
        const batch = todo.slice(k, k + this.opts.pipelineDepth);
        // Queue every block's two messages at once; the bus keeps them in order.
        const ps: Promise<unknown>[] = [];
        for (const i of batch) {
          ps.push(this.bus.readData(Cmd.READ_SINGLE_BLOCK, this.address(info, lba + i)));
          ps.push(this.bus.readBuffer(0, SD_BLOCK));
        }
        const rs = await Promise.allSettled(ps);
        batch.forEach((i, j) => {
          const [rd, buf] = [rs[2 * j]!, rs[2 * j + 1]!];
          // A lost answer: the block is read again (CMD17 may be repeated), not a card error.
          const gone = [rd, buf].find((r) => r.status === 'rejected');
          if (gone) {
            this.lostAt((gone as PromiseRejectedResult).reason, `reading sector ${lba + i}`);
            lost.push(i);
            return;
          }
          const r = (rd as PromiseFulfilledResult<{ error: number; bytes: number }>).value;
          const data = (buf as PromiseFulfilledResult<Uint8Array>).value;
          if (r.error !== SdioError.OK || r.bytes !== SD_BLOCK || data.length !== SD_BLOCK) {
            failed.push({ i, error: r.error !== SdioError.OK ? r.error : SdioError.ERROR });
          } else {
            out.set(data, i * SD_BLOCK);
            this.losses.progress();
          }
        });
      }
      if (failed.length > 0) {
        const first = failed[0]!;
        const why = await this.explain('read', lba + first.i, first.error);
        this.trace(`read: ${failed.length} block(s) failed (${errName(first.error)}); attempt ${attempt}`);
        if (!(why instanceof Retryable)) throw why;
        if (attempt >= this.opts.retries) throw why.error;
        attempt++;
      }
      todo = [...failed.map((f) => f.i), ...lost].sort((a, b) => a - b);
    }
    return out;
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
    for (let i = 0; i < count; i++) {
      const block = data.subarray(i * SD_BLOCK, (i + 1) * SD_BLOCK);
      for (let attempt = 1; ; ) {
        // Buffer, write and the first status poll travel together: one round trip per block.
        const [buf, wr, st] = await Promise.allSettled([
          this.bus.writeBuffer(0, block),
          this.bus.writeData(Cmd.WRITE_BLOCK, this.address(info, lba + i)),
          this.bus.sendCommand(Cmd.SEND_STATUS, this.rca << 16, SdioWait.SHORT),
        ]);
        if (buf.status === 'rejected') throw buf.reason;
        const first = st.status === 'fulfilled' ? st.value : undefined;
        if (st.status === 'rejected') this.lostAt(st.reason, `status after writing sector ${lba + i}`);
        if (wr.status === 'rejected') {
          // Whether the card took the block is unknown: let it finish, then write it again
          // (the MCU buffer still holds it, and the same data twice is harmless).
          this.lostAt(wr.reason, `writing sector ${lba + i}`);
          await this.waitTran(lba + i);
          continue;
        }
        const w = wr.value;
        if (w.error === SdioError.OK && w.bytes === SD_BLOCK) {
          await this.waitProgrammed(lba + i, first);
          this.losses.progress();
          break;
        }
        const why = await this.explain('write', lba + i, w.error === SdioError.OK ? SdioError.ERROR : w.error, first);
        this.trace(`write of sector ${lba + i} failed (${errName(w.error)}); attempt ${attempt}`);
        if (!(why instanceof Retryable)) throw why;
        if (attempt >= this.opts.retries) throw why.error;
        attempt++;
        await this.waitTran(lba + i);
      }
    }
  }

  /** Before retrying a rejected block: wait for `tran`, whatever the error bits say. */
  private async waitTran(lba: number): Promise<void> {
    const start = this.now();
    for (let polls = 0; ; polls++) {
      const s = await this.status();
      if (statusState(s) === CardState.tran) return;
      if (polls > 10_000 || this.now() - start > this.opts.busyTimeoutMs) {
        throw sdError('sd-busy-timeout', `the card stayed busy after a failed write of sector ${lba}`, { lba, polls });
      }
    }
  }

  /** Poll CMD13 until the card is back in `tran` and ready for data; then check its error bits. */
  private async waitProgrammed(lba: number, first: SdioCommandReply | undefined): Promise<void> {
    const start = this.now();
    const maxPolls = Math.max(100, Math.ceil((this.opts.busyTimeoutMs / 1000) * (this.opts.speedHz / 100)));
    let s = first && first.error === SdioError.OK && first.response.length === 4 ? word(first.response) : await this.status();
    for (let polls = 1; ; polls++) {
      const state = statusState(s);
      if (s & STATUS_ERROR_MASK) {
        if (s & Status.WP_VIOLATION) throw sdError('sd-write-protected', `the card refused to write sector ${lba}: it is write-protected`, { lba, status: s });
        throw sdError('sd-write-rejected', `the card reports status ${hex(s, 8)} after writing sector ${lba}`, { lba, status: s });
      }
      if (state === CardState.tran && s & Status.READY_FOR_DATA) return;
      if (state !== CardState.prg && state !== CardState.rcv && state !== CardState.tran) {
        throw sdError('sd-write-rejected', `the card is in an unexpected state (${state}) after writing sector ${lba}`, { lba, status: s });
      }
      if (polls > maxPolls || this.now() - start > this.opts.busyTimeoutMs) {
        throw sdError('sd-busy-timeout', `the card stayed busy programming sector ${lba} for ${polls} status polls`, { lba, polls });
      }
      s = await this.status();
    }
  }
}

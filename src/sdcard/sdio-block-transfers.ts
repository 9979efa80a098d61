/**
 * Reads and writes of blocks over SDIO. Klipper's MCU moves one block per `sdio_read_data`/
 * `sdio_write_data` through its buffer, so there are no multi-block commands here; instead
 * many blocks' messages are queued at once and the bus pipelines them. A lost answer means
 * the block is moved again; a transient card error (a CRC failure) is retried a few times.
 */
import type { SdioCommandReply } from './bus.js';
import type { BlockTransfers } from './host-core.js';
import type { LossAccount } from './loss-account.js';
import { cmdName } from './command-names.js';
import { hex, sdError } from './sd-errors.js';
import { SD_BLOCK } from './sd-host.js';
import { CardState, Cmd, Status, STATUS_ERROR_MASK, statusState } from './sd-protocol.js';
import { errName, statusOf, type SdioCardChannel } from './sdio-card-channel.js';
import { SdioError, SdioWait } from './sdio-codes.js';
import type { DeviceError } from '../errors.js';

export interface SdioTransferLimits {
  /** Bus clock after identification, for the bound on status polls. */
  speedHz: number;
  busyTimeoutMs: number;
  /** Attempts per block after a CRC failure on the wire. */
  retries: number;
  /** Blocks whose messages are queued at once. */
  pipelineDepth: number;
}

export class SdioBlockTransfers implements BlockTransfers {
  constructor(
    private readonly card: SdioCardChannel,
    private readonly limits: SdioTransferLimits,
    private readonly losses: LossAccount,
    private readonly trace: (message: string) => void,
    private readonly now: () => number,
  ) {}

  async read(lba: number, count: number, address: (lba: number) => number): Promise<Uint8Array> {
    const { bus } = this.card;
    const out = new Uint8Array(count * SD_BLOCK);
    let todo = Array.from({ length: count }, (_, i) => i);
    for (let attempt = 1; todo.length > 0; ) {
      const failed: { i: number; error: number }[] = [];
      const lost: number[] = [];
      for (let k = 0; k < todo.length; k += this.limits.pipelineDepth) {
        const batch = todo.slice(k, k + this.limits.pipelineDepth);
        // Queue every block's two messages at once; the bus keeps them in order.
        const ps: Promise<unknown>[] = [];
        for (const i of batch) {
          ps.push(bus.readData(Cmd.READ_SINGLE_BLOCK, address(lba + i)));
          ps.push(bus.readBuffer(0, SD_BLOCK));
        }
        const rs = await Promise.allSettled(ps);
        batch.forEach((i, j) => {
          const [rd, buf] = [rs[2 * j]!, rs[2 * j + 1]!];
          // A lost answer: the block is read again (CMD17 may be repeated), not a card error.
          const gone = [rd, buf].find((r) => r.status === 'rejected');
          if (gone) {
            this.losses.lost((gone as PromiseRejectedResult).reason, `reading sector ${lba + i}`);
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
        if (!why.transient || attempt >= this.limits.retries) throw why;
        attempt++;
      }
      todo = [...failed.map((f) => f.i), ...lost].sort((a, b) => a - b);
    }
    this.trace(`${cmdName(Cmd.READ_SINGLE_BLOCK)} x${count} from arg 0x${address(lba).toString(16)} (sector ${lba}): read`);
    return out;
  }

  async write(lba: number, data: Uint8Array, address: (lba: number) => number): Promise<void> {
    const { bus } = this.card;
    const count = data.length / SD_BLOCK;
    this.trace(`${cmdName(Cmd.WRITE_BLOCK)} x${count} from arg 0x${address(lba).toString(16)} (sector ${lba})`);
    for (let i = 0; i < count; i++) {
      const block = data.subarray(i * SD_BLOCK, (i + 1) * SD_BLOCK);
      for (let attempt = 1; ; ) {
        // Buffer, write and the first status poll travel together: one round trip per block.
        const [buf, wr, st] = await Promise.allSettled([
          bus.writeBuffer(0, block),
          bus.writeData(Cmd.WRITE_BLOCK, address(lba + i)),
          bus.sendCommand(Cmd.SEND_STATUS, this.card.rca << 16, SdioWait.SHORT),
        ]);
        if (buf.status === 'rejected') throw buf.reason;
        const first = st.status === 'fulfilled' ? st.value : undefined;
        if (st.status === 'rejected') this.losses.lost(st.reason, `status after writing sector ${lba + i}`);
        if (wr.status === 'rejected') {
          // Whether the card took the block is unknown: let it finish, then write it again
          // (the MCU buffer still holds it, and the same data twice is harmless).
          this.losses.lost(wr.reason, `writing sector ${lba + i}`);
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
        if (!why.transient || attempt >= this.limits.retries) throw why;
        attempt++;
        await this.waitTran(lba + i);
      }
    }
  }

  /** Turn a failed data transfer into the most specific error CMD13 allows; `transient` when a retry may fix it. */
  private async explain(what: 'read' | 'write', lba: number, error: number, known?: SdioCommandReply): Promise<DeviceError> {
    // Error bits are cleared once reported: fold in a status poll that was already in flight.
    const earlier = statusOf(known) ?? 0;
    // If the card is gone, this CMD13 is what says so.
    const s = (earlier | (await this.card.status())) >>> 0;
    const d = { lba, error, status: s };
    if (s & Status.WP_VIOLATION) return sdError('sd-write-protected', `the card refused to write sector ${lba}: it is write-protected`, d);
    if (s & (Status.OUT_OF_RANGE | Status.ADDRESS_ERROR)) return sdError('sd-out-of-range', `the card says sector ${lba} is out of range`, d);
    if (error === SdioError.CRC_FAIL && !(s & (Status.ERROR | Status.CARD_ECC_FAILED))) {
      return sdError('sd-data-crc', `sector ${lba}: ${what} data failed its CRC ${this.limits.retries} times`, d, { transient: true });
    }
    if (what === 'write') return sdError('sd-write-rejected', `the card rejected sector ${lba} (${errName(error)}, status ${hex(s, 8)})`, d);
    return sdError('sd-read-failed', `the card could not read sector ${lba} (${errName(error)}, status ${hex(s, 8)})`, d);
  }

  /** Before retrying a rejected block: wait for `tran`, whatever the error bits say. */
  private async waitTran(lba: number): Promise<void> {
    const start = this.now();
    for (let polls = 0; ; polls++) {
      const s = await this.card.status();
      if (statusState(s) === CardState.tran) return;
      if (polls > 10_000 || this.now() - start > this.limits.busyTimeoutMs) {
        throw sdError('sd-busy-timeout', `the card stayed busy after a failed write of sector ${lba}`, { lba, polls });
      }
    }
  }

  /** Poll CMD13 until the card is back in `tran` and ready for data; then check its error bits. */
  private async waitProgrammed(lba: number, first: SdioCommandReply | undefined): Promise<void> {
    const start = this.now();
    const { busyTimeoutMs, speedHz } = this.limits;
    const maxPolls = Math.max(100, Math.ceil((busyTimeoutMs / 1000) * (speedHz / 100)));
    let s = statusOf(first) ?? (await this.card.status());
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
      if (polls > maxPolls || this.now() - start > busyTimeoutMs) {
        throw sdError('sd-busy-timeout', `the card stayed busy programming sector ${lba} for ${polls} status polls`, { lba, polls });
      }
      s = await this.card.status();
    }
  }
}

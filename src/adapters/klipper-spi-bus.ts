import type { SpiBus } from '../sdcard/bus.js';
import { SpiResponseLost, type LostRange } from '../sdcard/lost-response.js';
import { maxPayload, OpChain } from './bus-ops.js';
import type { MessageFormat } from '../klipper/message-format.js';
import type { McuSession } from '../klipper/session.js';

/**
 * SPI through a Klipper MCU: `spi_transfer` (answered by `spi_transfer_response`) and
 * `spi_send` on an oid set up with config_spi + spi_set_bus/spi_set_sw_bus (see
 * configure-bus.ts). Data longer than one message is split; the MCU releases CS between
 * messages, which SD cards tolerate.
 */
export class KlipperSpiBus implements SpiBus {
  private readonly chain = new OpChain();
  private readonly sendFmt: MessageFormat;
  private readonly xferFmt: MessageFormat;
  /** Largest data chunk per message. */
  readonly chunk: number;
  /** Messages sent, for benchmarks. */
  readonly counters = { transfers: 0, sends: 0, bytes: 0, lostResponses: 0 };

  constructor(
    private readonly session: McuSession,
    readonly oid = 0,
  ) {
    this.sendFmt = session.resolve('spiSend').format;
    this.xferFmt = session.resolve('spiTransfer').format;
    const resp = session.resolve('spiTransferResponse').format;
    // The answer must fit a block too: the firmware silently drops a response that does not
    // (command_encodef's need_space), so size chunks by the longest message id of the three.
    this.chunk = Math.min(...[this.sendFmt, this.xferFmt, resp].map((f) => maxPayload(f.idBytes.length, [oid])));
  }

  /**
   * Clock `data` out and return what came back. The chunks of one call are pipelined: all
   * spi_transfer commands go out at once, each in a block of its own, so the answer to the
   * chunk in block N is the spi_transfer_response in block N + 1. It returns when every
   * answer is in; when every chunk's block has been acknowledged, an answer that has not come
   * was lost on the link (see
   * SendQueue.send): asking again would clock the card further, so the transfer rejects with
   * SpiResponseLost, naming the missing bytes and keeping those that arrived in their places.
   */
  transfer(data: Uint8Array): Promise<Uint8Array> {
    return this.chain.run(async () => {
      const parts: Array<{ at: number; data: Uint8Array }> = [];
      for (let o = 0; o < data.length; o += this.chunk) parts.push({ at: o, data: data.subarray(o, o + this.chunk) });
      if (!parts.length) parts.push({ at: 0, data });
      const answers = await this.session.sendEach(parts.map((part) => this.xferFmt.encode({ oid: this.oid, data: part.data })), 'spi_transfer_response', this.oid);
      this.counters.transfers += parts.length;
      this.counters.bytes += data.length;
      const out = new Uint8Array(data.length);
      const lost: LostRange[] = [];
      parts.forEach((part, i) => {
        const got = answers[i]?.response as Uint8Array | undefined;
        if (got && got.length === part.data.length) {
          out.set(got, part.at);
          return;
        }
        out.fill(0xff, part.at, part.at + part.data.length);
        const last = lost[lost.length - 1];
        if (last && last.offset + last.length === part.at) last.length += part.data.length;
        else lost.push({ offset: part.at, length: part.data.length });
        this.counters.lostResponses++;
      });
      if (lost.length) throw new SpiResponseLost(out, lost);
      return { done: Promise.resolve(out) };
    });
  }

  send(data: Uint8Array): Promise<void> {
    return this.chain.run(async () => {
      const acks: Promise<unknown>[] = [];
      for (let o = 0; o < data.length; o += this.chunk) {
        acks.push(this.session.sendRaw(this.sendFmt.encode({ oid: this.oid, data: data.subarray(o, o + this.chunk) })));
        this.counters.sends++;
        this.counters.bytes += Math.min(this.chunk, data.length - o);
      }
      return { done: Promise.all(acks).then(() => undefined) };
    });
  }
}

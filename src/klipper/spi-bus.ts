import type { SpiBus } from '../sdcard/bus.js';
import { maxPayload, OpChain } from './bus-ops.js';
import type { MessageFormat } from './message-format.js';
import type { McuSession } from './session.js';

/**
 * SPI through a Klipper MCU: `spi_transfer` (answered by `spi_transfer_response`) and
 * `spi_send` on an oid set up with config_spi + spi_set_bus/spi_set_sw_bus (see
 * mcu-config.ts). Data longer than one message is split; the MCU releases CS between
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
   * spi_transfer commands go out at once and their responses are taken in arrival order
   * (the link delivers in order). A response lost on the way cannot be asked for again
   * without clocking the card further, which is also what Klipper's host does when it
   * resends: the missing part is filled by further transfers and the SD layer's CRC check
   * rejects the block, so the driver retries it.
   */
  transfer(data: Uint8Array): Promise<Uint8Array> {
    return this.chain.run(async () => {
      const parts: Uint8Array[] = [];
      for (let o = 0; o < data.length; o += this.chunk) parts.push(data.subarray(o, o + this.chunk));
      if (!parts.length) parts.push(data);
      const got: Uint8Array[] = [];
      const off = this.session.onMessage('spi_transfer_response', (p) => got.push(p.response as Uint8Array), this.oid);
      try {
        await Promise.all(parts.map((part) => this.session.sendRaw(this.xferFmt.encode({ oid: this.oid, data: part }))));
      } finally {
        off();
      }
      this.counters.transfers += parts.length;
      this.counters.bytes += data.length;
      // Responses that went missing: clock the remaining parts one at a time (query retries).
      for (let i = got.length; i < parts.length; i++) {
        const p = await this.session.query(this.xferFmt.encode({ oid: this.oid, data: parts[i]! }), 'spi_transfer_response', this.oid);
        got.push(p.response as Uint8Array);
        this.counters.lostResponses++;
      }
      const out = new Uint8Array(data.length);
      let o = 0;
      for (let i = 0; i < parts.length; i++) {
        out.set(got[i]!.subarray(0, parts[i]!.length), o);
        o += parts[i]!.length;
      }
      return { done: Promise.resolve(out) };
    });
  }

  send(data: Uint8Array): Promise<void> {
    return this.chain.run(async () => {
      const acks: Promise<void>[] = [];
      for (let o = 0; o < data.length; o += this.chunk) {
        acks.push(this.session.sendRaw(this.sendFmt.encode({ oid: this.oid, data: data.subarray(o, o + this.chunk) })));
        this.counters.sends++;
        this.counters.bytes += Math.min(this.chunk, data.length - o);
      }
      return { done: Promise.all(acks).then(() => undefined) };
    });
  }
}

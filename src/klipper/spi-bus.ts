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
  readonly counters = { transfers: 0, sends: 0, bytes: 0 };

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

  transfer(data: Uint8Array): Promise<Uint8Array> {
    return this.chain.run(async () => {
      const out = new Uint8Array(data.length);
      for (let o = 0; o < data.length || (o === 0 && data.length === 0); o += this.chunk) {
        const part = data.subarray(o, o + this.chunk);
        const p = await this.session.query(this.xferFmt.encode({ oid: this.oid, data: part }), 'spi_transfer_response', this.oid);
        const resp = p.response as Uint8Array;
        out.set(resp.subarray(0, part.length), o);
        this.counters.transfers++;
        this.counters.bytes += part.length;
        if (data.length === 0) break;
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

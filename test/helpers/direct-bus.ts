/**
 * Buses wired straight to an emulated card, in-process, for the SD drivers' unit tests. They
 * behave like the Klipper MCU in what matters to a card: CS is asserted per message and
 * released between messages, SPI data travels in chunks of at most `maxChunk` bytes, and SDIO
 * data passes through an MCU-side buffer.
 */
import type { SdioBus, SdioCommandReply, SdioDataReply, SpiBus } from '../../src/sdcard/bus.js';
import { SdioError, type SdioWaitType } from '../../src/sdcard/sdio-codes.js';
import type { SdCardSdioFace, SdCardSpiFace } from '../../src/sim/sd-card/card-interface.js';

export interface DirectSpiBusOptions {
  /** Bytes per simulated `spi_transfer`/`spi_send` message. Default 56, near Klipper's limit. */
  maxChunk?: number;
}

export interface BusCounters {
  /** Messages (spi_transfer/spi_send or sdio_* commands) the link would have carried. */
  messages: number;
  /** Messages that needed an answer before the host could go on (transfers, queries). */
  queries: number;
  bytesOut: number;
  bytesIn: number;
}

function newBusCounters(): BusCounters {
  return { messages: 0, queries: 0, bytesOut: 0, bytesIn: 0 };
}

export class DirectSpiBus implements SpiBus {
  readonly counters: BusCounters = newBusCounters();
  private readonly maxChunk: number;

  constructor(
    private readonly card: SdCardSpiFace,
    opts: DirectSpiBusOptions = {},
  ) {
    this.maxChunk = Math.max(1, opts.maxChunk ?? 56);
  }

  private clock(data: Uint8Array, keep: boolean): Uint8Array {
    const out = new Uint8Array(keep ? data.length : 0);
    for (let off = 0; off < data.length; off += this.maxChunk) {
      const chunk = data.subarray(off, off + this.maxChunk);
      this.card.spiSelect(true);
      const got = this.card.spiTransfer(chunk);
      this.card.spiSelect(false);
      if (keep) out.set(got, off);
      this.counters.messages++;
      this.counters.bytesOut += chunk.length;
      if (keep) this.counters.bytesIn += chunk.length;
    }
    return out;
  }

  async transfer(data: Uint8Array): Promise<Uint8Array> {
    this.counters.queries++;
    return this.clock(data, true);
  }

  async send(data: Uint8Array): Promise<void> {
    this.clock(data, false);
  }
}

export interface DirectSdioBusOptions {
  /** `config_sdio blocksize`. Default 512. */
  blockSize?: number;
  /** The MCU's data buffer. Default 4096 bytes, as in Klipper's sdiocmds.c. */
  bufferSize?: number;
}

export class DirectSdioBus implements SdioBus {
  readonly counters: BusCounters = newBusCounters();
  readonly blockSize: number;
  private readonly buffer: Uint8Array;

  constructor(
    private readonly card: SdCardSdioFace,
    opts: DirectSdioBusOptions = {},
  ) {
    this.blockSize = opts.blockSize ?? 512;
    this.buffer = new Uint8Array(opts.bufferSize ?? 4096);
  }

  async sendCommand(cmd: number, argument: number, wait: SdioWaitType): Promise<SdioCommandReply> {
    this.counters.messages++;
    this.counters.queries++;
    const r = this.card.sdioSendCommand(cmd, argument, wait);
    return { error: r.error, response: r.response };
  }

  async readData(cmd: number, argument: number): Promise<SdioDataReply> {
    this.counters.messages++;
    this.counters.queries++;
    if (this.blockSize > this.buffer.length) return { error: SdioError.OK, bytes: 0 };
    const r = this.card.sdioReadData(cmd, argument, this.blockSize, 1);
    this.buffer.set(r.data.subarray(0, this.blockSize));
    // Klipper reports `read=blocksize` whenever the command itself went through.
    return { error: r.error, bytes: r.data.length > 0 ? this.blockSize : 0 };
  }

  async writeData(cmd: number, argument: number): Promise<SdioDataReply> {
    this.counters.messages++;
    this.counters.queries++;
    if (this.blockSize > this.buffer.length) return { error: SdioError.OK, bytes: 0 };
    const r = this.card.sdioWriteData(cmd, argument, this.buffer.slice(0, this.blockSize), this.blockSize);
    return { error: r.error, bytes: r.error === SdioError.OK ? this.blockSize : 0 };
  }

  async readBuffer(offset: number, length: number): Promise<Uint8Array> {
    this.counters.messages++;
    this.counters.queries++;
    // Klipper answers an out-of-bounds request with no data.
    if (offset + length > this.buffer.length) return new Uint8Array(0);
    this.counters.bytesIn += length;
    return this.buffer.slice(offset, offset + length);
  }

  async writeBuffer(offset: number, data: Uint8Array): Promise<void> {
    this.counters.messages++;
    this.counters.bytesOut += data.length;
    if (offset + data.length <= this.buffer.length) this.buffer.set(data, offset);
  }

  async setSpeed(hz: number): Promise<void> {
    this.counters.messages++;
    this.card.sdioSetSpeed(hz);
  }
}

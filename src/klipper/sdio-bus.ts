import type { SdioBus, SdioCommandReply, SdioDataReply } from '../sdcard/bus.js';
import type { SdioErrorCode, SdioWaitType } from '../sdcard/card-interface.js';
import { DeviceError } from '../errors.js';
import { maxPayload, OpChain } from './bus-ops.js';
import type { MessageFormat } from './message-format.js';
import type { McuSession } from './session.js';

/** The MCU's data buffer between card and host (sdiocmds.c: 4096 bytes). */
export const SDIO_MCU_BUFFER = 4096;

/**
 * SDIO through a Klipper MCU's sdio_* commands (src/sdiocmds.c) on an oid set up with
 * config_sdio + sdio_set_bus (see mcu-config.ts).
 */
export class KlipperSdioBus implements SdioBus {
  private readonly chain = new OpChain();
  private readonly f: Record<'cmd' | 'read' | 'write' | 'readBuf' | 'writeBuf' | 'speed', MessageFormat>;
  private readonly readChunk: number;

  constructor(
    private readonly session: McuSession,
    readonly blockSize = 512,
    readonly oid = 0,
  ) {
    this.f = {
      cmd: session.resolve('sdioSendCommand').format,
      read: session.resolve('sdioReadData').format,
      write: session.resolve('sdioWriteData').format,
      readBuf: session.resolve('sdioReadDataBuffer').format,
      writeBuf: session.resolve('sdioWriteDataBuffer').format,
      speed: session.resolve('sdioSetSpeed').format,
    };
    for (const k of ['sdioSendCommandResponse', 'sdioReadDataResponse', 'sdioWriteDataResponse', 'sdioReadDataBufferResponse'] as const) session.resolve(k);
    const respId = session.dictionary.find('sdio_read_data_buffer_response')!.idBytes.length;
    this.readChunk = Math.min(255, maxPayload(respId, [oid]));
  }

  private query(fmt: MessageFormat, params: Record<string, number | Uint8Array>, response: string): Promise<Record<string, unknown>> {
    return this.chain.run(async () => ({ done: Promise.resolve(await this.session.query(fmt.encode({ oid: this.oid, ...params }), response, this.oid)) }));
  }

  async sendCommand(cmd: number, argument: number, wait: SdioWaitType): Promise<SdioCommandReply> {
    const p = await this.query(this.f.cmd, { cmd, argument: argument >>> 0, wait }, 'sdio_send_command_response');
    return { error: Number(p.error) as SdioErrorCode, response: p.response as Uint8Array };
  }

  async readData(cmd: number, argument: number): Promise<SdioDataReply> {
    const p = await this.query(this.f.read, { cmd, argument: argument >>> 0 }, 'sdio_read_data_response');
    return { error: Number(p.error) as SdioErrorCode, bytes: Number(p.read) };
  }

  async writeData(cmd: number, argument: number): Promise<SdioDataReply> {
    const p = await this.query(this.f.write, { cmd, argument: argument >>> 0 }, 'sdio_write_data_response');
    return { error: Number(p.error) as SdioErrorCode, bytes: Number(p.write) };
  }

  /**
   * Read the MCU's buffer. The chunk reads are pipelined and their answers taken in arrival
   * order; reading the buffer changes nothing, so if an answer went missing the whole range is
   * simply read again one chunk at a time.
   */
  readBuffer(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length);
    return this.chain.run(async () => {
      const chunks: Array<{ at: number; len: number }> = [];
      for (let o = 0; o < length; o += this.readChunk) chunks.push({ at: o, len: Math.min(this.readChunk, length - o) });
      const encode = (c: { at: number; len: number }): number[] => this.f.readBuf.encode({ oid: this.oid, offset: offset + c.at, len: c.len });
      const got: Uint8Array[] = [];
      const off = this.session.onMessage('sdio_read_data_buffer_response', (p) => got.push(p.data as Uint8Array), this.oid);
      try {
        await Promise.all(chunks.map((c) => this.session.sendRaw(encode(c))));
      } finally {
        off();
      }
      const out = new Uint8Array(length);
      const complete = got.length === chunks.length && chunks.every((c, i) => got[i]!.length === c.len);
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!;
        const data = complete ? got[i]! : ((await this.session.query(encode(c), 'sdio_read_data_buffer_response', this.oid)).data as Uint8Array);
        if (data.length !== c.len) throw new DeviceError('sdio-buffer', `the MCU returned ${data.length} of ${c.len} buffer bytes at offset ${offset + c.at}`);
        out.set(data, c.at);
      }
      return { done: Promise.resolve(out) };
    });
  }

  writeBuffer(offset: number, data: Uint8Array): Promise<void> {
    checkRange(offset, data.length);
    return this.chain.run(async () => {
      const acks: Promise<unknown>[] = [];
      const chunk = maxPayload(this.f.writeBuf.idBytes.length, [this.oid, offset + data.length]);
      for (let o = 0; o < data.length; o += chunk) {
        acks.push(this.session.sendRaw(this.f.writeBuf.encode({ oid: this.oid, offset: offset + o, data: data.subarray(o, o + chunk) })));
      }
      return { done: Promise.all(acks).then(() => undefined) };
    });
  }

  setSpeed(hz: number): Promise<void> {
    return this.chain.run(async () => ({ done: this.session.sendRaw(this.f.speed.encode({ oid: this.oid, speed: hz })).then(() => undefined) }));
  }
}

function checkRange(offset: number, length: number): void {
  if (offset < 0 || length < 0 || offset + length > SDIO_MCU_BUFFER) {
    throw new RangeError(`MCU buffer access ${offset}+${length} is outside its ${SDIO_MCU_BUFFER} bytes`);
  }
}

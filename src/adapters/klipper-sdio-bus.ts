import type { SdioBus, SdioCommandReply, SdioDataReply } from '../sdcard/bus.js';
import type { SdioErrorCode, SdioWaitType } from '../sdcard/sdio-codes.js';
import { DeviceError } from '../errors.js';
import { SdioResponseLost } from '../sdcard/lost-response.js';
import { maxPayload, OpChain } from './bus-ops.js';
import type { MessageFormat } from '../klipper/message-format.js';
import type { McuSession } from '../klipper/session.js';

/** The MCU's data buffer between card and host (sdiocmds.c: 4096 bytes). */
export const SDIO_MCU_BUFFER = 4096;

/** Rounds of buffer re-reads in a row that bring no answer at all before giving up. */
const READ_BUFFER_BARREN_ROUNDS = 8;

/**
 * SDIO through a Klipper MCU's sdio_* commands (src/sdiocmds.c) on an oid set up with
 * config_sdio + sdio_set_bus (see configure-bus.ts).
 */
export class KlipperSdioBus implements SdioBus {
  private readonly chain = new OpChain();
  private readonly f: Record<'cmd' | 'read' | 'write' | 'readBuf' | 'writeBuf' | 'speed', MessageFormat>;
  private readonly readChunk: number;
  /**
   * Messages sent, for benchmarks and --json, counted as KlipperSpiBus counts them: `answered`
   * waited for a response (commands, data transfers, buffer reads), `unanswered` did not
   * (buffer writes, speed); and answers lost on the link.
   */
  readonly counters = { answered: 0, unanswered: 0, lostResponses: 0 };

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

  /**
   * One command and its answer, matched by block as in KlipperSpiBus.transfer: the command
   * travels in a block of its own and its answer comes in the block numbered one higher. A
   * lost answer is not asked for again here: whether repeating a command is safe depends on
   * it (to the card a repeated ACMD41 is a plain CMD41, and a second CMD2 is illegal), so
   * the SD driver gets SdioResponseLost and decides.
   */
  private exchange(fmt: MessageFormat, params: Record<string, number | Uint8Array>, response: string, what: string): Promise<Record<string, unknown>> {
    return this.chain.run(async () => {
      this.counters.answered++;
      const [got] = await this.session.sendEach([fmt.encode({ oid: this.oid, ...params })], response, this.oid);
      if (!got) {
        this.counters.lostResponses++;
        throw new SdioResponseLost(what);
      }
      return { done: Promise.resolve(got) };
    });
  }

  async sendCommand(cmd: number, argument: number, wait: SdioWaitType): Promise<SdioCommandReply> {
    const p = await this.exchange(this.f.cmd, { cmd, argument: argument >>> 0, wait }, 'sdio_send_command_response', `CMD${cmd} (sdio_send_command)`);
    return { error: Number(p.error) as SdioErrorCode, response: p.response as Uint8Array };
  }

  async readData(cmd: number, argument: number): Promise<SdioDataReply> {
    const p = await this.exchange(this.f.read, { cmd, argument: argument >>> 0 }, 'sdio_read_data_response', `CMD${cmd} (sdio_read_data)`);
    return { error: Number(p.error) as SdioErrorCode, bytes: Number(p.read) };
  }

  async writeData(cmd: number, argument: number): Promise<SdioDataReply> {
    const p = await this.exchange(this.f.write, { cmd, argument: argument >>> 0 }, 'sdio_write_data_response', `CMD${cmd} (sdio_write_data)`);
    return { error: Number(p.error) as SdioErrorCode, bytes: Number(p.write) };
  }

  /**
   * Read the MCU's buffer. The chunk reads are pipelined, each in a block of its own, and
   * their answers matched by block; reading the buffer changes nothing, so the chunks whose
   * answers were lost are simply asked for again, until a few rounds in a row bring nothing.
   */
  readBuffer(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length);
    return this.chain.run(async () => {
      let todo: Array<{ at: number; len: number }> = [];
      for (let o = 0; o < length; o += this.readChunk) todo.push({ at: o, len: Math.min(this.readChunk, length - o) });
      const out = new Uint8Array(length);
      for (let barren = 0; todo.length; ) {
        this.counters.answered += todo.length;
        const answers = await this.session.sendEach(todo.map((c) => this.f.readBuf.encode({ oid: this.oid, offset: offset + c.at, len: c.len })), 'sdio_read_data_buffer_response', this.oid);
        const missing = todo.filter((c, i) => {
          const data = answers[i]?.data as Uint8Array | undefined;
          if (!data) return true;
          if (data.length !== c.len) throw new DeviceError('sdio-buffer', `the MCU returned ${data.length} of ${c.len} buffer bytes at offset ${offset + c.at}`);
          out.set(data, c.at);
          return false;
        });
        this.counters.lostResponses += missing.length;
        barren = missing.length === todo.length ? barren + 1 : 0;
        if (barren >= READ_BUFFER_BARREN_ROUNDS) throw new SdioResponseLost('sdio_read_data_buffer');
        todo = missing;
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
        this.counters.unanswered++;
      }
      return { done: Promise.all(acks).then(() => undefined) };
    });
  }

  setSpeed(hz: number): Promise<void> {
    this.counters.unanswered++;
    return this.chain.run(async () => ({ done: this.session.sendRaw(this.f.speed.encode({ oid: this.oid, speed: hz })).then(() => undefined) }));
  }
}

function checkRange(offset: number, length: number): void {
  if (offset < 0 || length < 0 || offset + length > SDIO_MCU_BUFFER) {
    throw new RangeError(`MCU buffer access ${offset}+${length} is outside its ${SDIO_MCU_BUFFER} bytes`);
  }
}

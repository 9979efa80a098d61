import { inflateSync } from 'node:zlib';
import type { SimulatedSdCard } from './sd-card/card-interface.js';
import { SdioError, type SdioWaitType } from '../sdcard/sdio-codes.js';
import { crc16Ccitt } from '../klipper/crc16.js';
import type { RawDictionary } from '../klipper/dictionary.js';
import { encodeBlock, MESSAGE_DEST, MESSAGE_MAX, MESSAGE_MIN, MESSAGE_SEQ_MASK, MESSAGE_SYNC } from '../klipper/frame.js';
import { MessageFormat } from '../klipper/message-format.js';
import type { Params } from '../klipper/param-types.js';
import { decodeVlq } from '../klipper/vlq.js';
import { pinTable, type ResolvedWiring } from './card-wiring.js';
import { compressDictionary, type McuProfile } from './mcu-profile.js';

/** Commands Klipper lets run while shut down (HF_IN_SHUTDOWN). */
const IN_SHUTDOWN = new Set(['identify', 'get_config', 'get_clock', 'get_uptime', 'emergency_stop', 'clear_shutdown', 'reset', 'config_reset']);
const SDIO_BUFFER = 4096;

/** The firmware's image of itself: what identify serves and which commands exist. */
export interface SimFirmware {
  dictionary: RawDictionary;
  /** The zlib bytes as embedded (served verbatim by identify); built from `dictionary` if absent. */
  compressed?: Uint8Array;
}

export interface SimMcuOptions {
  profile: McuProfile;
  firmware: SimFirmware;
  card?: SimulatedSdCard;
  wiring?: ResolvedWiring;
  /** UART receive buffer (Klipper serial_irq.c: 192); undefined = USB, which has flow control. */
  rxBufferSize?: number;
  /** MCU time to dispatch one command (µs). */
  commandMicros?: number;
  /** Period of the unsolicited "stats" report (Klipper: every 5 s); 0 = off. */
  statsIntervalMs?: number;
  /** Bytes the MCU transmits. */
  send: (bytes: Uint8Array) => void;
  /** The host sent "reset". */
  onReset?: () => void;
  trace?: (line: string) => void;
}

class Shutdown extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface SpiDev {
  kind: 'spi';
  cs?: number;
  csActiveHigh: boolean;
  hw?: { bus: number; mode: number; rate: number };
  sw?: { miso: number; mosi: number; sclk: number; mode: number; pulseTicks: number };
}

interface SdioDev {
  kind: 'sdio';
  blocksize: number;
  speed: number;
  bus?: number;
  buffer: Uint8Array;
}

type OidObj = SpiDev | SdioDev;

export interface SimMcuStats {
  blocksReceived: number;
  naksSent: number;
  rxOverflowBytes: number;
  commands: number;
}

/**
 * The device side of Klipper's protocol, as src/command.c, src/generic/serial_irq.c,
 * src/basecmd.c, src/spicmds.c, src/spi_software.c and src/sdiocmds.c behave: block finding
 * with NAKs on bad sequence, ack after each dispatched block, a bounded receive buffer,
 * oids, config CRC, shutdown with static-string reasons, and SPI/SDIO reaching the card.
 * Commands are looked up through the running firmware's dictionary, so a "flashed" firmware
 * with a different dictionary changes what the MCU understands.
 */
export class SimMcu {
  private rx: number[] = [];
  private nextSeq = MESSAGE_DEST;
  private needSync = false;
  private needValid = false;
  private running = false;
  private alive = true;
  private debtMicros = 0;
  private readonly bootTime = performance.now();
  private lastCardTime = performance.now();
  private readonly commandsById = new Map<number, MessageFormat>();
  private readonly responses = new Map<string, MessageFormat>();
  private readonly staticIds = new Map<string, number>();
  private readonly identifyData: Uint8Array;
  private readonly pins: Map<string, number>;
  private readonly validPins: Set<number>;
  private oids: Array<OidObj | undefined> | undefined;
  private finalized = false;
  private configCrc = 0;
  private shutdownStatus = 0;
  private shutdownReason = 0;
  private pendingOut: Uint8Array[] = [];
  readonly stats: SimMcuStats = { blocksReceived: 0, naksSent: 0, rxOverflowBytes: 0, commands: 0 };
  readonly mcuName: string;
  readonly version: string;

  constructor(private readonly opts: SimMcuOptions) {
    const d = opts.firmware.dictionary;
    this.identifyData = opts.firmware.compressed ?? compressDictionary(d);
    // Device side: raw integers, no enumeration names.
    for (const [f, id] of Object.entries(d.commands ?? {})) this.commandsById.set(id, new MessageFormat(id, f));
    for (const [f, id] of Object.entries(d.responses ?? {})) {
      const mf = new MessageFormat(id, f);
      this.responses.set(mf.name, mf);
    }
    for (const [s, id] of Object.entries(d.enumerations?.static_string_id ?? {})) if (typeof id === 'number') this.staticIds.set(s, id);
    this.pins = pinTable(opts.profile);
    this.validPins = new Set(this.pins.values());
    this.mcuName = String(d.config?.MCU ?? opts.profile.mcu);
    this.version = d.version ?? '';
    const every = opts.statsIntervalMs ?? 5000;
    if (every > 0) {
      // sched.c's stats_update: a report nobody asked for arrives every few seconds, so the
      // host must cope with responses it did not request between the ones it did.
      this.statsTimer = setInterval(() => {
        if (!this.alive) return;
        this.sendf('stats', { count: this.stats.commands, sum: this.stats.commands * 1000, sumsq: this.stats.commands * 4000 });
        // A running task sends it with its own output; otherwise it goes out now.
        if (!this.running) for (const b of this.pendingOut.splice(0)) this.opts.send(b);
      }, every);
      this.statsTimer.unref?.();
    }
  }

  private statsTimer: NodeJS.Timeout | undefined;

  /** Parse the embedded zlib dictionary of a firmware image's bytes. */
  static firmwareFromCompressed(compressed: Uint8Array): SimFirmware {
    const dictionary = JSON.parse(inflateSync(compressed).toString('utf8')) as RawDictionary;
    return { dictionary, compressed };
  }

  get isShutdown(): boolean {
    return this.shutdownStatus !== 0;
  }

  get isConfigured(): boolean {
    return this.finalized;
  }

  /** MCU clock ticks since boot (64-bit as a JS number). */
  ticks(): number {
    return Math.floor(((performance.now() - this.bootTime) * this.opts.profile.clockFreq) / 1000);
  }

  /** Stop reacting (power off / reset). */
  halt(): void {
    this.alive = false;
    this.rx = [];
    if (this.statsTimer) clearInterval(this.statsTimer);
  }

  /** Bytes arriving on the MCU's RX line (or USB endpoint). */
  receive(bytes: Uint8Array): void {
    if (!this.alive) return;
    const cap = this.opts.rxBufferSize;
    let sawSync = false;
    for (const b of bytes) {
      if (b === MESSAGE_SYNC) sawSync = true;
      // serial_rx_byte: on overflow the byte is dropped; the CRC error forces a retransmit.
      if (cap !== undefined && this.rx.length >= cap) {
        this.stats.rxOverflowBytes++;
        continue;
      }
      this.rx.push(b);
    }
    if (sawSync || cap === undefined) this.kick();
  }

  private kick(): void {
    if (this.running || !this.alive) return;
    this.running = true;
    void this.task().finally(() => (this.running = false));
  }

  /** console_task: find a block, dispatch it, pop it, ack it; repeat while data is buffered. */
  private async task(): Promise<void> {
    while (this.alive && this.rx.length) {
      const { ret, pop } = this.findBlock();
      if (ret === 0) break;
      if (ret > 0) {
        this.stats.blocksReceived++;
        this.dispatch(Uint8Array.from(this.rx.slice(0, pop)));
      }
      this.rx.splice(0, pop);
      if (ret > 0) this.queueOut(encodeBlock(this.nextSeq, []));
      await this.flushOut();
    }
  }

  /** command_find_block, state for state. */
  private findBlock(): { ret: number; pop: number } {
    const buf = this.rx;
    const len = buf.length;
    if (!(len && this.needSync)) {
      if (len < MESSAGE_MIN) return { ret: 0, pop: 0 };
      const msglen = buf[0]!;
      const msgseq = buf[1]!;
      let bad = msglen < MESSAGE_MIN || msglen > MESSAGE_MAX || (msgseq & ~MESSAGE_SEQ_MASK) !== MESSAGE_DEST;
      if (!bad) {
        if (len < msglen) return { ret: 0, pop: 0 };
        const crc = (buf[msglen - 3]! << 8) | buf[msglen - 2]!;
        bad = buf[msglen - 1] !== MESSAGE_SYNC || crc !== crc16Ccitt(buf, 0, msglen - 3);
      }
      if (!bad) {
        this.needValid = false;
        if (msgseq !== this.nextSeq) {
          this.nak();
          return { ret: -1, pop: msglen };
        }
        this.nextSeq = ((msgseq + 1) & MESSAGE_SEQ_MASK) | MESSAGE_DEST;
        return { ret: 1, pop: msglen };
      }
      if (buf[0] === MESSAGE_SYNC) return { ret: -1, pop: 1 }; // leading sync bytes are not errors
      this.needSync = true;
    }
    const sync = buf.indexOf(MESSAGE_SYNC);
    let pop = len;
    if (sync >= 0) {
      this.needSync = false;
      pop = sync + 1;
    }
    if (this.needValid) return { ret: -1, pop };
    this.needValid = true;
    this.nak();
    return { ret: -1, pop };
  }

  private nak(): void {
    this.stats.naksSent++;
    this.queueOut(encodeBlock(this.nextSeq, []));
  }

  private queueOut(b: Uint8Array): void {
    this.pendingOut.push(b);
  }

  /** Let the time the MCU spent pass, then transmit what it produced. */
  private async flushOut(): Promise<void> {
    if (this.debtMicros >= 1000) {
      const ms = Math.floor(this.debtMicros / 1000);
      this.debtMicros -= ms * 1000;
      await new Promise((r) => setTimeout(r, ms));
    }
    const out = this.pendingOut;
    this.pendingOut = [];
    if (this.alive) for (const b of out) this.opts.send(b);
  }

  private sendf(name: string, params: Params): void {
    const mf = this.responses.get(name);
    if (!mf) return; // firmware without this response: nothing is sent, like a missing sendf
    const content = mf.encode(params);
    if (content.length > MESSAGE_MAX - MESSAGE_MIN) return;
    this.queueOut(encodeBlock(this.nextSeq, content));
  }

  private staticId(reason: string): number {
    return this.staticIds.get(reason) ?? 0xff;
  }

  /** command_dispatch: run every command of the block; a shutdown abandons the rest. */
  private dispatch(block: Uint8Array): void {
    const end = block.length - 3;
    let pos = 2;
    try {
      while (pos < end) {
        let id: number;
        ({ value: id } = decodeVlq(block, pos, true, end));
        const mf = this.commandsById.get(id);
        if (!mf) throw new Shutdown('Invalid command');
        let params: Params;
        try {
          ({ params, pos } = mf.decode(block, pos, end));
        } catch {
          throw new Shutdown('Command parser error');
        }
        this.stats.commands++;
        this.debtMicros += this.opts.commandMicros ?? 5;
        if (this.shutdownStatus && !IN_SHUTDOWN.has(mf.name)) {
          this.sendf('is_shutdown', { static_string_id: this.shutdownReason });
          continue;
        }
        this.run(mf.name, params);
      }
    } catch (e) {
      if (!(e instanceof Shutdown)) throw e;
      this.shutdown(e.reason);
    }
  }

  /** run_shutdown: remember the first reason, reset the config's outputs, report. */
  shutdown(reason: string): void {
    if (!this.shutdownStatus) this.shutdownReason = this.staticId(reason);
    this.shutdownStatus = 1;
    this.opts.trace?.(`sim mcu shutdown: ${reason}`);
    this.sendf('shutdown', { clock: this.ticks() % 2 ** 32, static_string_id: this.shutdownReason });
  }

  private num(p: Params, k: string, dflt = 0): number {
    const v = p[k];
    return typeof v === 'number' ? v : dflt;
  }

  private run(name: string, p: Params): void {
    const n = (k: string, d = 0): number => this.num(p, k, d);
    switch (name) {
      case 'identify': {
        const offset = n('offset');
        let count = n('count');
        const size = this.identifyData.length;
        if (offset >= size) count = 0;
        else if (offset + count > size) count = size - offset;
        this.sendf('identify_response', { offset, data: this.identifyData.subarray(offset, offset + count) });
        return;
      }
      case 'get_uptime': {
        const t = this.ticks();
        this.sendf('uptime', { high: Math.floor(t / 2 ** 32), clock: t % 2 ** 32 });
        return;
      }
      case 'get_clock':
        this.sendf('clock', { clock: this.ticks() % 2 ** 32 });
        return;
      case 'get_config':
        this.sendf('config', {
          is_config: this.finalized ? 1 : 0,
          crc: this.configCrc,
          is_shutdown: this.shutdownStatus ? 1 : 0,
          move_count: this.finalized ? 1024 : 0,
        });
        return;
      case 'allocate_oids':
        if (this.oids) throw new Shutdown('oids already allocated');
        this.oids = new Array<OidObj | undefined>(n('count')).fill(undefined);
        return;
      case 'finalize_config':
        if (this.finalized) throw new Shutdown('Already finalized');
        this.finalized = true;
        this.configCrc = n('crc');
        return;
      case 'emergency_stop':
        throw new Shutdown('Command request');
      case 'clear_shutdown':
        if (!this.shutdownStatus) throw new Shutdown('Shutdown cleared when not shutdown');
        this.shutdownStatus = 0;
        return;
      case 'reset':
        this.alive = false;
        this.opts.onReset?.();
        return;
      case 'config_spi':
        this.allocOid(n('oid'), { kind: 'spi', cs: this.outputPin(n('pin')), csActiveHigh: n('cs_active_high') !== 0 });
        return;
      case 'config_spi_without_cs':
        this.allocOid(n('oid'), { kind: 'spi', csActiveHigh: false });
        return;
      case 'spi_set_bus': {
        const dev = this.spiDev(n('oid'));
        const mode = n('mode');
        if (mode > 3 || dev.hw || dev.sw) throw new Shutdown('Invalid spi config');
        const bus = n('spi_bus');
        if (!Object.values(this.opts.profile.spiBuses).includes(bus)) throw new Shutdown(this.opts.profile.reasons.badSpiBus);
        dev.hw = { bus, mode, rate: n('rate') };
        return;
      }
      case 'spi_set_sw_bus':
      case 'spi_set_software_bus': {
        const mode = n('mode');
        if (mode > 3) throw new Shutdown('Invalid spi config');
        const dev = this.spiDev(n('oid'));
        const miso = this.inputPin(n('miso_pin'));
        const mosi = this.outputPin(n('mosi_pin'));
        const sclk = this.outputPin(n('sclk_pin'));
        if (dev.hw || dev.sw) throw new Shutdown('Invalid spi config');
        // The old command took a rate; the new one takes ticks per SCLK period.
        const pulseTicks = name === 'spi_set_sw_bus' ? n('pulse_ticks') : Math.floor(this.opts.profile.clockFreq / Math.max(1, n('rate')));
        dev.sw = { miso, mosi, sclk, mode, pulseTicks };
        return;
      }
      case 'spi_transfer': {
        const data = p.data as Uint8Array;
        const out = this.spiTransfer(this.spiDev(n('oid')), data, true);
        this.sendf('spi_transfer_response', { oid: n('oid'), response: out });
        return;
      }
      case 'spi_send':
        this.spiTransfer(this.spiDev(n('oid')), p.data as Uint8Array, false);
        return;
      case 'config_sdio':
        this.allocOid(n('oid'), { kind: 'sdio', blocksize: n('blocksize'), speed: 400_000, buffer: new Uint8Array(SDIO_BUFFER) });
        return;
      case 'sdio_set_bus': {
        const dev = this.sdioDev(n('oid'));
        const bus = n('sdio_bus');
        if (!Object.values(this.opts.profile.sdioBuses).includes(bus)) throw new Shutdown('Invalid sdio bus');
        dev.bus = bus;
        dev.speed = 400_000;
        this.sdioCard(dev)?.sdioSetSpeed(dev.speed);
        return;
      }
      case 'sdio_set_speed': {
        const dev = this.sdioDev(n('oid'));
        dev.speed = n('speed');
        this.sdioCard(dev)?.sdioSetSpeed(dev.speed);
        return;
      }
      case 'sdio_send_command': {
        const oid = n('oid');
        const dev = this.sdioDev(oid);
        const card = this.sdioCard(dev);
        this.cardTime();
        const r = card ? card.sdioSendCommand(n('cmd'), n('argument') >>> 0, n('wait') as SdioWaitType) : { error: SdioError.CMD_RESPONSE_TIMEOUT, response: new Uint8Array(0) };
        this.debtMicros += (48 * 2 * 1e6) / Math.max(dev.speed, 1);
        this.sendf('sdio_send_command_response', { oid, error: r.error, response: r.response });
        return;
      }
      case 'sdio_read_data': {
        const oid = n('oid');
        const dev = this.sdioDev(oid);
        const card = this.sdioCard(dev);
        this.cardTime();
        let error: number = SdioError.CMD_RESPONSE_TIMEOUT;
        let read = 0;
        if (dev.blocksize > SDIO_BUFFER) error = SdioError.OK;
        else if (card) {
          const r = card.sdioReadData(n('cmd'), n('argument') >>> 0, dev.blocksize, 1);
          error = r.error;
          if (r.error === SdioError.OK) {
            dev.buffer.set(r.data.subarray(0, dev.blocksize));
            read = dev.blocksize;
          }
          this.debtMicros += ((dev.blocksize + 8) * 8 * 1e6) / Math.max(dev.speed, 1);
        }
        this.sendf('sdio_read_data_response', { oid, error, read });
        return;
      }
      case 'sdio_write_data': {
        const oid = n('oid');
        const dev = this.sdioDev(oid);
        const card = this.sdioCard(dev);
        this.cardTime();
        let error: number = SdioError.CMD_RESPONSE_TIMEOUT;
        let write = 0;
        if (dev.blocksize > SDIO_BUFFER) error = SdioError.OK;
        else if (card) {
          const r = card.sdioWriteData(n('cmd'), n('argument') >>> 0, dev.buffer.slice(0, dev.blocksize), dev.blocksize);
          error = r.error;
          if (r.error === SdioError.OK) write = dev.blocksize;
          this.debtMicros += ((dev.blocksize + 8) * 8 * 1e6) / Math.max(dev.speed, 1);
        }
        this.sendf('sdio_write_data_response', { oid, error, write });
        return;
      }
      case 'sdio_read_data_buffer': {
        const oid = n('oid');
        const dev = this.sdioDev(oid);
        const offset = n('offset');
        let len = n('len');
        if (offset + len > SDIO_BUFFER) len = 0;
        this.sendf('sdio_read_data_buffer_response', { oid, data: dev.buffer.slice(offset, offset + len) });
        return;
      }
      case 'sdio_write_data_buffer': {
        const dev = this.sdioDev(n('oid'));
        const offset = n('offset');
        const data = p.data as Uint8Array;
        if (offset + data.length <= SDIO_BUFFER) dev.buffer.set(data, offset);
        return;
      }
      default:
        // Declared in the dictionary but not emulated: accept it silently.
        return;
    }
  }

  private allocOid(oid: number, obj: OidObj): void {
    if (!this.oids || oid >= this.oids.length || this.oids[oid] || this.finalized) throw new Shutdown("Can't assign oid");
    this.oids[oid] = obj;
  }

  private lookup(oid: number, kind: OidObj['kind']): OidObj {
    const o = this.oids?.[oid];
    if (!o || o.kind !== kind) throw new Shutdown('Invalid oid type');
    return o;
  }

  private spiDev(oid: number): SpiDev {
    return this.lookup(oid, 'spi') as SpiDev;
  }

  private sdioDev(oid: number): SdioDev {
    return this.lookup(oid, 'sdio') as SdioDev;
  }

  private outputPin(pin: number): number {
    if (!this.validPins.has(pin)) throw new Shutdown(this.opts.profile.reasons.badOutputPin);
    return pin;
  }

  private inputPin(pin: number): number {
    if (!this.validPins.has(pin)) throw new Shutdown(this.opts.profile.reasons.badInputPin);
    return pin;
  }

  /** Let the card see the real time that passed since it was last touched. */
  private cardTime(): void {
    const now = performance.now();
    const card = this.opts.card;
    if (card) card.elapse(Math.max(0, (now - this.lastCardTime) * 1000));
    this.lastCardTime = now;
  }

  private spiCardFor(dev: SpiDev): SimulatedSdCard | undefined {
    const w = this.opts.wiring;
    const card = this.opts.card;
    if (!w || !card || dev.cs === undefined || dev.csActiveHigh || w.kind === 'sdio') return undefined;
    if (w.kind === 'spi') return dev.hw && dev.hw.bus === w.bus && dev.cs === w.cs ? card : undefined;
    return dev.sw && dev.sw.miso === w.miso && dev.sw.mosi === w.mosi && dev.sw.sclk === w.sclk && dev.cs === w.cs ? card : undefined;
  }

  private sdioCard(dev: SdioDev): SimulatedSdCard | undefined {
    const w = this.opts.wiring;
    return w?.kind === 'sdio' && dev.bus === w.bus ? this.opts.card : undefined;
  }

  /** spidev_transfer: an unconfigured bus leaves the data as it was (the firmware returns early). */
  private spiTransfer(dev: SpiDev, data: Uint8Array, receive: boolean): Uint8Array {
    if (!dev.hw && !dev.sw) return data;
    const hz = dev.hw
      ? Math.min(dev.hw.rate, this.opts.profile.maxSpiHz)
      : this.opts.profile.clockFreq / Math.max(dev.sw!.pulseTicks, 1) / (1 + 0.5); // bit-banging overhead
    this.debtMicros += (data.length * 8 * 1e6) / Math.max(hz, 1);
    const card = this.spiCardFor(dev);
    if (!card) return receive ? new Uint8Array(data.length).fill(0xff) : data;
    this.cardTime();
    card.setSpiClock(hz);
    card.spiSelect(true);
    const out = card.spiTransfer(data);
    card.spiSelect(false);
    return receive ? out : data;
  }
}

import { inflateSync } from 'node:zlib';
import type { SimulatedSdCard } from './sd-card/card-interface.js';
import type { RawDictionary } from '../klipper/dictionary.js';
import { encodeBlock, MESSAGE_MAX, MESSAGE_MIN, MESSAGE_SYNC } from '../klipper/frame.js';
import { MessageFormat } from '../klipper/message-format.js';
import type { Params } from '../klipper/param-types.js';
import { decodeVlq } from '../klipper/vlq.js';
import { BlockReader } from './block-reader.js';
import { pinTable, type ResolvedWiring } from './card-wiring.js';
import { compressDictionary } from './dictionary-builder.js';
import type { McuProfile } from './mcu-profile.js';
import { OidTable } from './oid-table.js';
import { SdBusCommands, type BusDevice } from './sd-bus-commands.js';
import { Shutdown } from './shutdown.js';

/** Commands Klipper lets run while shut down (HF_IN_SHUTDOWN). */
const IN_SHUTDOWN = new Set(['identify', 'get_config', 'get_clock', 'get_uptime', 'emergency_stop', 'clear_shutdown', 'reset', 'config_reset']);

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
  /** Bytes the MCU transmits, starting at `at` (ms, performance.now() scale): when its own clock says they were produced. */
  send: (bytes: Uint8Array, at?: number) => void;
  /** The host sent "reset". */
  onReset?: () => void;
  trace?: (line: string) => void;
}

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
 *
 * Its parts: BlockReader finds blocks (command_find_block), OidTable keeps the config,
 * SdBusCommands runs the SPI and SDIO commands against the emulated card.
 */
export class SimMcu {
  private rx: number[] = [];
  private readonly blocks = new BlockReader();
  private running = false;
  private alive = true;
  /** Time spent by the block being dispatched (µs), on top of `blockStart`. */
  private debtMicros = 0;
  /**
   * The MCU's own clock (ms, performance.now() scale). A block starts when it has arrived and
   * the MCU is done with the one before, not when a Node timer happens to wake it: timers wake
   * a millisecond or more late, and that lateness must not pile up into a slower MCU.
   */
  private blockStart = performance.now();
  private doneAt = performance.now();
  /** When the bytes of `rx` arrived: `end` is the count of `rx` bytes up to and including a chunk. */
  private arrivals: Array<{ end: number; at: number; byteMs: number }> = [];
  private readonly bootTime = performance.now();
  private readonly commandsById = new Map<number, MessageFormat>();
  private readonly responses = new Map<string, MessageFormat>();
  private readonly staticIds = new Map<string, number>();
  private readonly identifyData: Uint8Array;
  private readonly oids = new OidTable<BusDevice>();
  private readonly buses: SdBusCommands;
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
    this.buses = new SdBusCommands({
      profile: opts.profile,
      card: opts.card,
      wiring: opts.wiring,
      oids: this.oids,
      validPins: new Set(pinTable(opts.profile).values()),
      sendf: (name, params) => this.sendf(name, params),
      spend: (micros) => (this.debtMicros += micros),
      now: () => this.clock(),
    });
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
    return this.oids.finalized;
  }

  /** MCU clock ticks since boot (64-bit as a JS number). */
  ticks(): number {
    return Math.floor(((performance.now() - this.bootTime) * this.opts.profile.clockFreq) / 1000);
  }

  /** The MCU's time now: the start of the block it runs plus what it spent on it so far. */
  private clock(): number {
    return this.running ? this.blockStart + this.debtMicros / 1000 : Math.max(this.doneAt, performance.now());
  }

  /** Stop reacting (power off / reset). */
  halt(): void {
    this.alive = false;
    this.rx = [];
    this.arrivals = [];
    if (this.statsTimer) clearInterval(this.statsTimer);
  }

  /**
   * Bytes arriving on the MCU's RX line (or USB endpoint), the last of them at `at` (ms), each
   * one `byteMs` after the one before.
   */
  receive(bytes: Uint8Array, at = performance.now(), byteMs = 0): void {
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
    this.arrivals.push({ end: this.rx.length, at, byteMs });
    if (sawSync || cap === undefined) this.kick();
  }

  private kick(): void {
    if (this.running || !this.alive) return;
    this.running = true;
    void this.task();
  }

  /**
   * console_task: find a block, dispatch it, pop it, ack it; repeat while data is buffered.
   * `running` is cleared in the same turn as the loop ends: the link may hand over more bytes
   * straight after (several pieces of one block at once), and their kick must start a new pass.
   */
  private async task(): Promise<void> {
    try {
      while (this.alive && this.rx.length) {
        const { ret, pop, nak } = this.blocks.find(this.rx);
        if (nak) {
          this.stats.naksSent++;
          this.queueOut(encodeBlock(this.blocks.nextSeq, []));
        }
        if (ret === 0) break;
        this.blockStart = Math.max(this.doneAt, this.arrivedBy(pop));
        this.debtMicros = 0;
        if (ret > 0) {
          this.stats.blocksReceived++;
          if (!this.dispatch(Uint8Array.from(this.rx.slice(0, pop)))) {
            // sched_shutdown() longjmps out of command_dispatch (src/sched.c): the block is
            // neither popped nor acked; the next pass finds it out of sequence and NAKs it.
            await this.flushOut();
            continue;
          }
        }
        this.rx.splice(0, pop);
        this.popArrivals(pop);
        if (ret > 0) this.queueOut(encodeBlock(this.blocks.nextSeq, []));
        await this.flushOut();
      }
    } finally {
      this.running = false;
    }
  }

  private queueOut(b: Uint8Array): void {
    this.pendingOut.push(b);
  }

  /** When the first `count` bytes of `rx` had all arrived. */
  private arrivedBy(count: number): number {
    for (const a of this.arrivals) if (a.end >= count) return a.at - (a.end - count) * a.byteMs;
    return performance.now();
  }

  private popArrivals(count: number): void {
    this.arrivals = this.arrivals.filter((a) => a.end > count).map((a) => ({ ...a, end: a.end - count }));
  }

  /**
   * The block is done at its start plus the time it spent: transmit what it produced from then
   * (stamped with the MCU's time, so the link holds it until then, and a late timer here cannot
   * delay it). Then wait for that time when it is a millisecond or more ahead, so the receive
   * buffer drains no faster than the MCU would drain it.
   */
  private async flushOut(): Promise<void> {
    this.doneAt = this.blockStart + this.debtMicros / 1000;
    this.debtMicros = 0;
    this.blockStart = this.doneAt;
    const out = this.pendingOut;
    this.pendingOut = [];
    if (this.alive) for (const b of out) this.opts.send(b, this.doneAt);
    const ahead = this.doneAt - performance.now();
    if (ahead >= 1) await new Promise((r) => setTimeout(r, ahead));
  }

  private sendf(name: string, params: Params): void {
    const mf = this.responses.get(name);
    if (!mf) return; // firmware without this response: nothing is sent, like a missing sendf
    const content = mf.encode(params);
    if (content.length > MESSAGE_MAX - MESSAGE_MIN) return;
    this.queueOut(encodeBlock(this.blocks.nextSeq, content));
  }

  private staticId(reason: string): number {
    return this.staticIds.get(reason) ?? 0xff;
  }

  /**
   * command_dispatch: run every command of the block; a shutdown abandons the rest. False when
   * a shutdown ended it (Klipper's longjmp skips console_task's pop and command_send_ack).
   */
  private dispatch(block: Uint8Array): boolean {
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
      return false;
    }
    return true;
  }

  /** run_shutdown: remember the first reason, reset the config's outputs, report. */
  shutdown(reason: string): void {
    if (!this.shutdownStatus) this.shutdownReason = this.staticId(reason);
    this.shutdownStatus = 1;
    this.opts.trace?.(`sim mcu shutdown: ${reason}`);
    this.sendf('shutdown', { clock: this.ticks() % 2 ** 32, static_string_id: this.shutdownReason });
  }

  /** The commands of src/basecmd.c and command.c; the SPI and SDIO ones go to `buses`. */
  private run(name: string, p: Params): void {
    const n = (k: string): number => (typeof p[k] === 'number' ? p[k] : 0);
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
          is_config: this.oids.finalized ? 1 : 0,
          crc: this.oids.crc,
          is_shutdown: this.shutdownStatus ? 1 : 0,
          move_count: this.oids.finalized ? 1024 : 0,
        });
        return;
      case 'allocate_oids':
        this.oids.allocate(n('count'));
        return;
      case 'finalize_config':
        this.oids.finalize(n('crc'));
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
      default:
        // The SPI and SDIO commands; anything else declared in the dictionary but not
        // emulated is accepted silently.
        this.buses.run(name, p);
        return;
    }
  }
}

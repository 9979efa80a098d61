import { DeviceError, FormatError } from '../errors.js';
import type { Trace } from '../progress.js';
import type { Transport } from '../transport/transport.js';
import { ClockEstimator } from './clock-sync.js';
import { FORMATS, resolveFormat, type KnownFormat } from './command-formats.js';
import { fetchIdentifyData } from './identify-fetch.js';
import { bootstrapDictionary, DataDictionary, IDENTIFY_FORMAT, type Message } from './dictionary.js';
import type { Block } from './frame.js';
import { MessageFormat, parseCommandText, textArgsToParams } from './message-format.js';
import { ParamError, type Params } from './param-types.js';
import { SendQueue, type SendOptions, type SendQueueStats } from './send-queue.js';

export interface McuSessionOptions {
  transport: Transport;
  /** Fail when the MCU stops acknowledging for this long (ms). */
  timeoutMs?: number;
  /** How long connect() waits for the first answer (ms). */
  connectTimeoutMs?: number;
  /** Bytes asked per identify chunk (Klipper's host uses 40; default: the most one answer holds). */
  identifyChunk?: number;
  /** Debug trace sink (the CLI's --verbose/--log); library code never prints. */
  trace?: Trace;
}

/** The MCU's answer to get_config, whichever of the two historical orders it uses. */
export interface McuConfigState {
  isConfig: boolean;
  crc: number;
  isShutdown: boolean;
  moveCount: number;
}

export interface ShutdownReport {
  reason: string;
  clock?: number;
  /** "shutdown" when it just happened, "is_shutdown" when a command was refused because of it. */
  kind: 'shutdown' | 'is_shutdown';
}

export interface SendWithResponseOptions {
  params?: Params;
  /** Match only responses whose oid is this (responses to one SPI/SDIO device). */
  oid?: number;
  /** Retries when the response went missing (Klipper: 5, starting 10 ms, doubling). */
  retries?: number;
}

/**
 * A response handler. `seq` is the sequence number of the block the message came in: the MCU
 * answers the commands of block N in blocks numbered N + 1 (see `sendRaw`).
 */
type Handler = (params: Params, message: Message, seq: number) => void;

/**
 * A conversation with one Klipper MCU: link-level sync, the identify handshake, commands by
 * name or by Klipper text, queries matched to their responses, shutdown tracking and reset.
 */
export class McuSession {
  private dict: DataDictionary = bootstrapDictionary();
  private queue: SendQueue | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly queryLocks = new Map<string, Promise<unknown>>();
  private identified = false;
  /** The most recent shutdown the MCU reported. */
  lastShutdown: ShutdownReport | undefined;
  /** Messages that arrived and no one asked for (output() text, stats), newest last. */
  readonly unsolicited: Message[] = [];
  clock: ClockEstimator | undefined;

  constructor(readonly opts: McuSessionOptions) {}

  get transport(): Transport {
    return this.opts.transport;
  }

  get dictionary(): DataDictionary {
    if (!this.identified) throw new DeviceError('not-identified', 'the MCU has not been identified yet', { hint: 'Call connect() first.' });
    return this.dict;
  }

  get isIdentified(): boolean {
    return this.identified;
  }

  /** Bytes the host keeps unacknowledged at most (0 = only the 12-block bound), from identify. */
  get receiveWindow(): number {
    return this.queue?.receiveWindow ?? 0;
  }

  get stats(): SendQueueStats | undefined {
    return this.queue?.stats;
  }

  /** Open the transport if needed, synchronise sequence numbers and identify the MCU. */
  async connect(): Promise<DataDictionary> {
    const t = this.opts.transport;
    if (!t.isOpen) await t.open();
    this.queue?.close();
    this.queue = new SendQueue({
      transport: t,
      onBlock: (b, seq) => this.onBlock(b, seq),
      timeoutMs: this.opts.timeoutMs ?? 5000,
      receiveWindow: 192, // until identify says otherwise: the smallest Klipper UART buffer
      // The send queue traces plain lines; they go out under its own namespace.
      ...(this.opts.trace ? { trace: (line: string) => this.opts.trace!('klipper:queue', line) } : {}),
    });
    await this.queue.sync(this.opts.connectTimeoutMs ?? 5000);
    return this.identify();
  }

  /** Fetch the data dictionary in chunks and switch to it. */
  async identify(): Promise<DataDictionary> {
    const q = this.requireQueue();
    const identify = new MessageFormat(1, IDENTIFY_FORMAT);
    const all = await fetchIdentifyData(
      { send: (offset, count) => q.send(identify.encode({ offset, count })), subscribe: (h) => this.onMessage('identify_response', h) },
      this.opts.identifyChunk,
    );
    let dict: DataDictionary;
    try {
      dict = DataDictionary.fromCompressed(all);
    } catch (e) {
      throw new FormatError('bad-dictionary', `the MCU's data dictionary could not be read: ${(e as Error).message}`, {
        hint: 'This does not look like Klipper firmware, or the transfer was corrupted. Try again; if it persists, reflash Klipper.',
        cause: e,
      });
    }
    this.dict = dict;
    this.identified = true;
    // Klipper's UART and CAN code declare RECEIVE_WINDOW; USB builds do not, because USB flow
    // control cannot overrun them, and Klipper's host then sends unbounded (12 blocks). A build
    // that names a SERIAL_BAUD but no window gets the smallest UART buffer (192) to be safe;
    // bounding USB as well would cost about two thirds of its throughput.
    const baud = dict.constantNumber('SERIAL_BAUD');
    const window = dict.constantNumber('RECEIVE_WINDOW');
    q.receiveWindow = window ?? (baud !== undefined ? 192 : 0);
    q.byteTime = baud ? 10 / baud : 0;
    this.opts.trace?.('klipper', `identified ${String(dict.constant('MCU'))} ${dict.version}`);
    return dict;
  }

  /** Subscribe to a response by name (optionally one oid); returns an unsubscribe function. */
  onMessage(name: string, handler: Handler, oid?: number): () => void {
    const key = handlerKey(name, oid);
    let set = this.handlers.get(key);
    if (!set) this.handlers.set(key, (set = new Set()));
    set.add(handler);
    return () => set!.delete(handler);
  }

  /** The command format for `name`, or a typed error when this firmware lacks it. */
  command(name: string): MessageFormat {
    const mf = this.dictionary.find(name);
    if (!mf || !this.dict.isCommand(name)) {
      throw new DeviceError('unknown-command', `the MCU's firmware has no "${name}" command`, {
        hint: 'The Klipper firmware on the board is too old or built without this feature; rebuild and flash a current Klipper.',
        details: { command: name },
      });
    }
    return mf;
  }

  /** Pick the first known shape (newest first) this firmware supports. */
  resolve(key: KnownFormat): { format: MessageFormat; index: number } {
    const r = resolveFormat(this.dictionary, FORMATS[key]);
    if (!r) {
      throw new DeviceError('unknown-command', `the MCU's firmware supports none of: ${FORMATS[key].join(' | ')}`, {
        hint: 'The Klipper firmware on the board is too old or built without this feature; rebuild and flash a current Klipper.',
        details: { formats: FORMATS[key] },
      });
    }
    return r;
  }

  /** Encode a command given as Klipper text ("allocate_oids count=1") or as name + params. */
  encode(cmd: string, params?: Params): number[] {
    try {
      if (params) return this.command(cmd.trim().split(/\s+/)[0]!).encode(params);
      const { name, args } = parseCommandText(cmd);
      const mf = this.command(name);
      return mf.encode(textArgsToParams(mf, args));
    } catch (e) {
      if (e instanceof ParamError) {
        // The firmware declares this command with other parameters: another Klipper release.
        throw new DeviceError('bad-command', `the MCU's firmware has a different "${cmd.trim().split(/\s+/)[0]}" command: ${e.message}`, {
          hint: 'The board runs a Klipper release whose commands differ from what fwcard speaks. Copy the firmware with a card reader instead (`fwcard prepare`), or update the board once by hand to a current Klipper.',
          details: { command: cmd },
          cause: e,
        });
      }
      throw e;
    }
  }

  /** Send a command; resolves when the MCU acknowledged the block carrying it. */
  async send(cmd: string, params?: Params): Promise<void> {
    await this.requireQueue().send(this.encode(cmd, params));
  }

  /**
   * Send encoded bytes (from a resolved format) and wait for the ack; resolves with the
   * sequence number of the block that carried them. Its answer, if any, is dispatched before
   * this resolves, in a block numbered one higher, or it was lost. `exclusive` keeps the
   * command out of blocks carrying other exclusive commands, so that number names its answer.
   */
  async sendRaw(bytes: number[], opts: SendOptions = {}): Promise<number> {
    return this.requireQueue().send(bytes, opts);
  }

  /**
   * Send each of `messages` in a block of its own (`exclusive`) and return, for each, the
   * parameters of its `responseName` answer, or undefined where that answer was lost. The MCU
   * answers the commands of block N in block N + 1, so the sequence numbers pair them up.
   * Returns as soon as every answer is in (an answer means the MCU ran the block, in order
   * after everything sent before it); only when one is missing does it wait for the
   * acknowledgements, which tell a lost answer from a late one.
   */
  async sendEach(messages: number[][], responseName: string, oid?: number): Promise<(Params | undefined)[]> {
    const answers = new Map<number, Params>();
    const packed: Array<number | undefined> = messages.map(() => undefined);
    let allAnswered: (seqs: number[]) => void = () => undefined;
    const answered = new Promise<number[]>((r) => (allAnswered = r));
    const check = () => {
      if (packed.every((s) => s !== undefined && answers.has(s + 1))) allAnswered(packed as number[]);
    };
    const off = this.onMessage(responseName, (p, _m, seq) => {
      if (!answers.has(seq)) answers.set(seq, p);
      check();
    }, oid);
    const acked = Promise.all(messages.map((m, i) => this.sendRaw(m, { exclusive: true, onPacked: (seq) => (packed[i] = seq) })));
    let seqs: number[];
    try {
      seqs = await Promise.race([acked, answered]);
    } finally {
      off();
    }
    // Answered before the acks came: a failure of the link after this shows in the next command.
    acked.catch(() => undefined);
    return seqs.map((seq) => answers.get(seq + 1));
  }

  /**
   * Send a query and return the parameters of its response (`responseName`, optionally for
   * one oid). Queries with the same response key run one at a time so answers cannot be
   * swapped; when the response went missing the command is sent again (Klipper's
   * SerialRetryCommand).
   */
  async sendWithResponse(cmd: string, responseName: string, opts: SendWithResponseOptions = {}): Promise<Params> {
    const bytes = this.encode(cmd, opts.params);
    return this.query(bytes, responseName, opts.oid, opts.retries ?? 5);
  }

  /** Same as sendWithResponse for already encoded bytes. */
  async query(bytes: number[], responseName: string, oid?: number, retries = 5): Promise<Params> {
    const key = handlerKey(responseName, oid);
    const prev = this.queryLocks.get(key) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.queryOnce(bytes, responseName, oid, retries));
    this.queryLocks.set(key, run);
    try {
      return await run;
    } finally {
      if (this.queryLocks.get(key) === run) this.queryLocks.delete(key);
    }
  }

  private async queryOnce(bytes: number[], responseName: string, oid: number | undefined, retries: number): Promise<Params> {
    const q = this.requireQueue();
    let got: Params | undefined;
    const off = this.onMessage(responseName, (p) => (got ??= p), oid);
    try {
      let delay = 10;
      for (let attempt = 0; ; attempt++) {
        await q.send(bytes);
        if (got) return got;
        if (attempt >= retries) break;
        await sleep(delay);
        if (got) return got;
        delay *= 2;
      }
    } finally {
      off();
    }
    const shutdown = this.lastShutdown ? ` (MCU is shut down: ${this.lastShutdown.reason})` : '';
    throw new DeviceError('no-response', `no "${responseName}" response from the MCU${shutdown}`, {
      hint: this.lastShutdown ? 'Restart the MCU (power cycle, or `fwcard` reset) and try again.' : 'The link is losing messages; check the cable and baud rate.',
      details: { response: responseName, shutdown: this.lastShutdown?.reason ?? null },
    });
  }

  /** get_config, decoded whichever field order the firmware uses. */
  async getConfig(): Promise<McuConfigState> {
    this.resolve('config');
    const p = await this.query(this.resolve('getConfig').format.encode({}), 'config');
    return { isConfig: !!p.is_config, crc: Number(p.crc), isShutdown: !!p.is_shutdown, moveCount: Number(p.move_count) };
  }

  /**
   * Why a shut-down MCU stopped. get_config only says *that* it is shut down; a command that
   * may not run in shutdown makes the firmware answer "is_shutdown static_string_id=…"
   * instead of running it (command.c), which names the reason. Returns undefined when the
   * MCU is running.
   */
  async shutdownReason(): Promise<string | undefined> {
    const cfg = await this.getConfig();
    if (!cfg.isShutdown) return undefined;
    if (this.lastShutdown) return this.lastShutdown.reason;
    // allocate_oids is refused while shut down, so it cannot change anything here.
    const p = await this.query(this.encode('allocate_oids', { count: 0 }), 'is_shutdown');
    const reason = this.dict.staticString(p.static_string_id as number | string) ?? `unknown reason ${String(p.static_string_id)}`;
    return reason;
  }

  /**
   * Start a clock estimate as clocksync.connect does: get_uptime, then `samples` get_clock
   * queries `intervalMs` apart.
   */
  async syncClock(samples = 8, intervalMs = 50): Promise<ClockEstimator> {
    const freq = this.dictionary.constantNumber('CLOCK_FREQ');
    if (!freq) throw new DeviceError('no-clock-freq', 'the MCU did not report CLOCK_FREQ');
    const est = new ClockEstimator(freq);
    let sent = now();
    const up = await this.query(this.encode('get_uptime'), 'uptime');
    est.start(Number(up.high), Number(up.clock), sent);
    for (let i = 0; i < samples; i++) {
      await sleep(intervalMs);
      sent = now();
      const c = await this.query(this.encode('get_clock'), 'clock');
      est.add({ clock: Number(c.clock), sentTime: sent });
    }
    this.clock = est;
    return est;
  }

  /**
   * Ask the MCU to reset (it reboots, so no ack is awaited) and end the session. A USB board
   * disappears and re-enumerates; a UART board is silent while its bootloader runs.
   */
  async reset(): Promise<void> {
    const q = this.requireQueue();
    const bytes = this.encode('reset');
    q.send(bytes).catch(() => undefined);
    // Klipper's flash script pauses 15 ms after queueing "reset" before letting go of the port.
    await sleep(15 + (q.byteTime * 64 * 1000 || 0));
    await this.close();
  }

  /** Stop the link layer and close the transport. */
  async close(): Promise<void> {
    this.queue?.close();
    await this.opts.transport.close().catch(() => undefined);
  }

  private requireQueue(): SendQueue {
    if (!this.queue) throw new DeviceError('not-connected', 'the MCU session is not connected', { hint: 'Call connect() first.' });
    if (this.queue.error) throw this.queue.error;
    return this.queue;
  }

  private onBlock(block: Block, seq: number): void {
    let messages: Message[];
    try {
      messages = this.dict.decodeAll(block.content);
    } catch (e) {
      this.opts.trace?.('klipper', `undecodable block: ${(e as Error).message}`);
      return;
    }
    for (const m of messages) this.dispatch(m, seq);
  }

  private dispatch(m: Message, seq: number): void {
    if (m.name === 'shutdown' || m.name === 'is_shutdown') {
      const id = m.params.static_string_id as number | string;
      const reason = this.dict.staticString(id) ?? `unknown reason ${String(id)}`;
      this.lastShutdown = { reason, kind: m.name, clock: m.name === 'shutdown' ? Number(m.params.clock) : undefined };
      this.opts.trace?.('klipper', `mcu ${m.name}: ${reason}`);
    }
    const oid = typeof m.params.oid === 'number' ? m.params.oid : undefined;
    const targets = [...(this.handlers.get(handlerKey(m.name, undefined)) ?? [])];
    if (oid !== undefined) targets.push(...(this.handlers.get(handlerKey(m.name, oid)) ?? []));
    if (!targets.length) {
      this.unsolicited.push(m);
      if (this.unsolicited.length > 100) this.unsolicited.shift();
      this.opts.trace?.('klipper', `unsolicited ${m.name}`);
    }
    for (const h of targets) h(m.params, m, seq);
  }
}

function handlerKey(name: string, oid: number | undefined): string {
  return oid === undefined ? name : `${name}#${oid}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function now(): number {
  return performance.now() / 1000;
}


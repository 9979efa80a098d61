import { DeviceError, IoError } from '../errors.js';
import { loadCatalog } from '../boards/catalog.js';
import type { Board } from '../boards/types.js';
import type { SyncBlockDevice } from '../disk/block-device.js';
import type { SimulatedSdCard } from './sd-card/card-interface.js';
import { TransportEvents, type Transport } from '../transport/transport.js';
import { runBootloader, type BootloaderSpec, type BootOutcome } from './bootloader.js';
import { resolveWiring, type CardWiring, type ResolvedWiring } from './card-wiring.js';
import { LinkModel, type LinkFaults } from './link.js';
import { SimMcu, type SimFirmware } from './mcu.js';
import { mcuProfile, type McuProfile } from './mcu-profile.js';
import { profileForBuild } from './build-profile.js';
import { buildSimDictionary } from './sim-dictionary.js';

/** The hint the real serial transport gives when the port goes away (src/transport/serial-port.ts). */
const GONE_HINT = 'The board went away (reset, USB cable, power). Wait for it to come back and try again.';

export type SimLinkSpec = { kind: 'uart'; baud?: number } | { kind: 'usb' };

export interface SimulatorOptions {
  /** Board catalog name (gives MCU, card wiring and bootloader behaviour). */
  board?: string | Board;
  /** Klipper MCU name, when no board is given. */
  mcu?: string;
  card?: SimulatedSdCard;
  /** How the card is wired; default: the board's Klipper flash-sdcard definition. */
  wiring?: CardWiring;
  link?: SimLinkSpec;
  latencyMs?: number;
  faults?: LinkFaults;
  /** MCU time per command, µs (default 5). */
  commandMicros?: number;
  /** Period of the MCU's unsolicited "stats" report, ms (default 5000; 0 = off). */
  statsIntervalMs?: number;
  /** Firmware running at start (default: a dictionary built for the MCU). */
  firmware?: SimFirmware;
  /** Version string of the default firmware. */
  version?: string;
  /** Bootloader behaviour; default from the board; false = none (reset just reboots). */
  bootloader?: BootloaderSpec | false;
  /** How long a reset keeps the MCU away (bootloader + USB enumeration), ms. Default 1500 (USB) / 800 (UART). */
  bootMs?: number;
  trace?: (line: string) => void;
}

export interface BootEvent {
  reason: 'reset' | 'power-cycle';
  outcome: BootOutcome | { kind: 'skipped'; reason: string };
}

/** A card whose backing medium the bootloader can read directly (EmulatedSdCard has one). */
function hasMedium(card: SimulatedSdCard): card is SimulatedSdCard & { readonly device: SyncBlockDevice } {
  const d = (card as { device?: Partial<SyncBlockDevice> }).device;
  return typeof d?.readSync === 'function' && typeof d.writeSync === 'function';
}

/** The board's Klipper card wiring, in simulator terms. */
export function boardWiring(board: Board): CardWiring | undefined {
  const k = board.klipper;
  if (!k) return undefined;
  switch (k.bus.kind) {
    case 'spi':
      return { kind: 'spi', bus: k.bus.bus, csPin: k.csPin ?? '' };
    case 'swspi':
      return { kind: 'swspi', miso: k.bus.miso, mosi: k.bus.mosi, sclk: k.bus.sclk, csPin: k.csPin ?? '' };
    case 'sdio':
      return { kind: 'sdio', bus: k.bus.bus };
  }
}

export function boardBootloader(board: Board): BootloaderSpec {
  return {
    folder: board.folder.value,
    firmwareName: board.firmwareName.value,
    afterFlash: board.afterFlash.value,
    bus: board.bootloaderBus.value,
  };
}

/**
 * A simulated Klipper board: MCU, link, card and bootloader. Each instance has its own state.
 * `connect()` hands out the host end of the link as a Transport, the same interface a real
 * serial port has; `servePty()` (pty.ts) puts it behind a pseudo-terminal.
 */
export class Simulator {
  /** The chip (Klipper's defaults for it); `profile` is the chip as the running build declares it. */
  readonly chip: McuProfile;
  readonly board: Board | undefined;
  readonly link: SimLinkSpec;
  private readonly cardWiring: CardWiring | undefined;
  private profile_: McuProfile;
  private wiring_: ResolvedWiring | undefined;
  readonly bootloader: BootloaderSpec | false;
  readonly boots: BootEvent[] = [];
  private firmware: SimFirmware;
  private mcu_: SimMcu;
  private linkModel: LinkModel;
  private present = true;
  private host: SimHostTransport | undefined;
  private lastFlashed: string | undefined;
  private readonly presenceListeners = new Set<(present: boolean) => void>();
  private bootTimer: NodeJS.Timeout | undefined;
  /** Counts boots started: a reset or power cut during a boot ends that boot (the later one runs). */
  private bootsStarted = 0;
  private closed = false;

  constructor(readonly opts: SimulatorOptions) {
    const board = typeof opts.board === 'string' ? loadCatalog().get(opts.board) : opts.board;
    this.board = board;
    const mcu = opts.mcu ?? board?.klipper?.mcu ?? board?.mcu;
    if (!mcu) throw new RangeError('simulator needs a board or an MCU name');
    this.chip = mcuProfile(mcu);
    this.link = opts.link ?? { kind: 'uart', baud: 250000 };
    this.cardWiring = opts.wiring ?? (board ? boardWiring(board) : undefined);
    this.bootloader = opts.bootloader ?? (board ? boardBootloader(board) : false);
    this.firmware = opts.firmware ?? {
      dictionary: buildSimDictionary({
        profile: this.chip,
        version: opts.version,
        link: this.link.kind,
        baud: this.link.kind === 'uart' ? this.link.baud : undefined,
      }),
    };
    this.profile_ = this.chip;
    if (opts.firmware) this.adoptFirmware(opts.firmware);
    // The chip's own build must reach the card the board wires (a wrong bus table throws here).
    else this.wiring_ = this.cardWiring ? resolveWiring(this.chip, this.cardWiring) : undefined;
    this.linkModel = this.makeLink();
    this.mcu_ = this.makeMcu();
  }

  /** The chip as the running build declares it (CLOCK_FREQ, pins, buses of its dictionary). */
  get profile(): McuProfile {
    return this.profile_;
  }

  /** The card wiring in the running build's enumeration values; undefined: no card, or the build cannot reach it. */
  get wiring(): ResolvedWiring | undefined {
    return this.wiring_;
  }

  /** A new build runs: its dictionary decides clock, pins and buses from now on. */
  private adoptFirmware(fw: SimFirmware): void {
    this.firmware = fw;
    this.profile_ = profileForBuild(this.chip, fw.dictionary);
    try {
      this.wiring_ = this.cardWiring ? resolveWiring(this.profile_, this.cardWiring) : undefined;
    } catch (e) {
      this.wiring_ = undefined;
      this.opts.trace?.(`sim: the new build cannot reach the card (${(e as Error).message})`);
    }
  }

  /** The MCU as it runs now (replaced on every boot). */
  get mcu(): SimMcu {
    return this.mcu_;
  }

  get card(): SimulatedSdCard | undefined {
    return this.opts.card;
  }

  get isPresent(): boolean {
    return this.present;
  }

  get channels(): LinkModel {
    return this.linkModel;
  }

  /** Subscribe to the USB device disappearing/reappearing. */
  onPresence(l: (present: boolean) => void): () => void {
    this.presenceListeners.add(l);
    return () => this.presenceListeners.delete(l);
  }

  /** The host end of the link. Only one may be open at a time, like an exclusive serial port. */
  connect(name = 'sim'): Transport {
    return new SimHostTransport(this, name);
  }

  /** Simulate pulling the USB cable / a dead UART: the host's transport closes. */
  disconnect(): void {
    this.host?.peerGone(new DeviceError('disconnected', 'the simulated board disconnected', { hint: GONE_HINT }));
  }

  /** Hold both directions for `ms` (a stalled link). */
  stall(ms: number): void {
    this.linkModel.toHost.stall(ms);
    this.linkModel.toMcu.stall(ms);
  }

  /** Power off and on: the card resets too (leaving SPI mode), then the bootloader runs. */
  async powerCycle(): Promise<BootEvent> {
    this.mcu_.halt();
    this.opts.card?.powerCycle();
    return this.reboot('power-cycle');
  }

  /** Resolves at the next completed boot. */
  nextBoot(): Promise<BootEvent> {
    const n = this.boots.length;
    return new Promise((resolve) => {
      const check = setInterval(() => {
        if (this.boots.length > n) {
          clearInterval(check);
          resolve(this.boots[n]!);
        }
      }, 5);
    });
  }

  close(): void {
    this.closed = true;
    if (this.bootTimer) clearTimeout(this.bootTimer);
    this.mcu_.halt();
    this.linkModel.clear();
    this.host?.peerGone(undefined);
  }

  // ---- internals used by SimHostTransport

  /** @internal */
  attach(host: SimHostTransport): void {
    if (this.closed || (this.link.kind === 'usb' && !this.present)) {
      throw new IoError('no-such-device', `${host.name}: no such serial device (the simulated board is not connected)`, {
        hint: 'The board is resetting or re-enumerating; wait a moment and try again.',
      });
    }
    if (this.host) throw new DeviceError('port-busy', `${host.name} is busy: another program has it open`, { hint: 'Close the other connection first.' });
    this.host = host;
  }

  /** @internal */
  detach(host: SimHostTransport): void {
    if (this.host === host) this.host = undefined;
  }

  /** @internal */
  hostWrite(bytes: Uint8Array): void {
    this.linkModel.toMcu.write(bytes);
  }

  private makeLink(): LinkModel {
    return new LinkModel(
      { kind: this.link.kind, baud: this.link.kind === 'uart' ? this.link.baud : undefined, latencyMs: this.opts.latencyMs, faults: this.opts.faults },
      (b, at, byteMs) => this.mcu_.receive(b, at, byteMs),
      (b) => this.host?.deliver(b),
    );
  }

  private makeMcu(): SimMcu {
    return new SimMcu({
      profile: this.profile,
      firmware: this.firmware,
      card: this.opts.card,
      wiring: this.wiring,
      rxBufferSize: this.rxBufferSize(),
      commandMicros: this.opts.commandMicros,
      statsIntervalMs: this.opts.statsIntervalMs,
      send: (b, at) => this.linkModel.toHost.write(b, at),
      onReset: () => void this.reboot('reset'),
      trace: this.opts.trace,
    });
  }

  /**
   * The MCU's receive buffer. A UART build (it declares SERIAL_BAUD or RECEIVE_WINDOW) has
   * serial_irq.c's fixed buffer and drops what overflows it; a USB build is flow-controlled
   * by the USB endpoint, so nothing is lost, whatever wire the simulation paces it with.
   */
  private rxBufferSize(): number | undefined {
    const c = this.firmware.dictionary.config ?? {};
    if (this.link.kind !== 'uart') return undefined;
    if (c.RECEIVE_WINDOW !== undefined) return Number(c.RECEIVE_WINDOW);
    return c.SERIAL_BAUD !== undefined ? 192 : undefined;
  }

  private setPresent(p: boolean): void {
    this.present = p;
    for (const l of [...this.presenceListeners]) l(p);
  }

  private async reboot(reason: BootEvent['reason']): Promise<BootEvent> {
    this.mcu_.halt();
    this.linkModel.clear();
    if (this.link.kind === 'usb') {
      // The USB device goes away: the host's port closes and the device node vanishes.
      this.host?.peerGone(new DeviceError('disconnected', 'the simulated board reset and left the USB bus', { hint: GONE_HINT }));
      this.setPresent(false);
    }
    const bootMs = this.opts.bootMs ?? (this.link.kind === 'usb' ? 1500 : 800);
    const boot = ++this.bootsStarted;
    await new Promise<void>((r) => (this.bootTimer = setTimeout(r, bootMs)));
    // Power cut (or reset) while this boot was under way: the MCU never got further; the later boot runs.
    if (boot !== this.bootsStarted) return { reason, outcome: { kind: 'skipped', reason: 'cut short by a later reset or power cycle' } };
    let outcome: BootEvent['outcome'];
    const card = this.opts.card;
    const medium = card && hasMedium(card) ? card.device : undefined;
    if (!this.bootloader) outcome = { kind: 'skipped', reason: 'no bootloader' };
    else if (!card?.inserted || !medium) outcome = { kind: 'skipped', reason: 'no card' };
    else if (this.bootloader.bus === 'sdio' && card.mode === 'spi') {
      // The card stays in SPI mode until power is cut; an SDIO bootloader cannot talk to it.
      outcome = { kind: 'skipped', reason: 'card is in SPI mode; an SDIO bootloader needs a power cycle' };
    } else {
      outcome = await runBootloader(medium, this.bootloader, this.lastFlashed);
      if (outcome.kind === 'flashed') {
        this.adoptFirmware(outcome.firmware);
        this.lastFlashed = outcome.file;
      }
    }
    this.opts.trace?.(`sim boot (${reason}): ${outcome.kind}`);
    if (this.closed) return { reason, outcome };
    this.mcu_ = this.makeMcu();
    if (this.link.kind === 'usb') this.setPresent(true);
    const ev = { reason, outcome };
    this.boots.push(ev);
    return ev;
  }
}

/** Host end of the simulated link. */
export class SimHostTransport implements Transport {
  private readonly events = new TransportEvents();
  private open_ = false;

  constructor(
    private readonly sim: Simulator,
    readonly name: string,
  ) {}

  get isOpen(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    if (this.open_) throw new DeviceError('already-open', `${this.name} is already open`);
    this.sim.attach(this);
    this.open_ = true;
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.open_) throw new DeviceError('not-open', `${this.name} is not open`);
    this.sim.hostWrite(data);
  }

  async close(): Promise<void> {
    this.end(undefined);
  }

  /** @internal */
  deliver(b: Uint8Array): void {
    if (this.open_) this.events.emitData(b);
  }

  /** @internal */
  peerGone(cause: Error | undefined): void {
    this.end(cause);
  }

  private end(cause: Error | undefined): void {
    if (!this.open_) return;
    this.open_ = false;
    this.sim.detach(this);
    this.events.emitClose(cause);
  }

  onData(l: (chunk: Uint8Array) => void): () => void {
    return this.events.onData(l);
  }
  onClose(l: (cause?: Error) => void): () => void {
    return this.events.onClose(l);
  }
}

/** Start a simulator (the function flows and tests build on). */
export function startSimulator(opts: SimulatorOptions): Simulator {
  return new Simulator(opts);
}

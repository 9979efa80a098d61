import type { SimulatedSdCard } from './sd-card/card-interface.js';
import { SdioError, type SdioWaitType } from '../sdcard/sdio-codes.js';
import type { Params } from '../klipper/param-types.js';
import type { ResolvedWiring } from './card-wiring.js';
import type { McuProfile } from './mcu-profile.js';
import type { OidTable } from './oid-table.js';
import { Shutdown } from './shutdown.js';

/** Bytes of the MCU's SDIO data buffer (Klipper's sdiocmds.c). */
export const SDIO_BUFFER = 4096;

export interface SpiDev {
  kind: 'spi';
  cs?: number;
  csActiveHigh: boolean;
  hw?: { bus: number; mode: number; rate: number };
  sw?: { miso: number; mosi: number; sclk: number; mode: number; pulseTicks: number };
}

export interface SdioDev {
  kind: 'sdio';
  blocksize: number;
  speed: number;
  bus?: number;
  buffer: Uint8Array;
}

export type BusDevice = SpiDev | SdioDev;

/** What the SPI and SDIO commands use of the MCU around them. */
export interface SdBusHost {
  profile: McuProfile;
  card?: SimulatedSdCard;
  wiring?: ResolvedWiring;
  oids: OidTable<BusDevice>;
  validPins: ReadonlySet<number>;
  sendf(name: string, params: Params): void;
  /** MCU time the command took (µs): its output goes out after it. */
  spend(micros: number): void;
  /** The MCU's own time (ms, performance.now() scale): when the command runs, plus what it spent so far. */
  now(): number;
}

/**
 * The SPI and SDIO commands of Klipper's src/spicmds.c, src/spi_software.c and
 * src/sdiocmds.c: configure a bus on an oid, and reach the emulated card when the host's
 * configuration matches how the board wires it.
 */
export class SdBusCommands {
  private lastCardTime: number;

  constructor(private readonly h: SdBusHost) {
    this.lastCardTime = h.now();
  }

  /** Run `name` if it is one of these commands; false if it is not. */
  run(name: string, p: Params): boolean {
    const n = (k: string): number => (typeof p[k] === 'number' ? p[k] : 0);
    const profile = this.h.profile;
    switch (name) {
      case 'config_spi':
        this.h.oids.assign(n('oid'), { kind: 'spi', cs: this.outputPin(n('pin')), csActiveHigh: n('cs_active_high') !== 0 });
        return true;
      case 'config_spi_without_cs':
        this.h.oids.assign(n('oid'), { kind: 'spi', csActiveHigh: false });
        return true;
      case 'spi_set_bus': {
        const dev = this.h.oids.get(n('oid'), 'spi');
        const mode = n('mode');
        if (mode > 3 || dev.hw || dev.sw) throw new Shutdown('Invalid spi config');
        const bus = n('spi_bus');
        if (!Object.values(profile.spiBuses).includes(bus)) throw new Shutdown(profile.reasons.badSpiBus);
        dev.hw = { bus, mode, rate: n('rate') };
        return true;
      }
      case 'spi_set_sw_bus':
      case 'spi_set_software_bus': {
        const mode = n('mode');
        if (mode > 3) throw new Shutdown('Invalid spi config');
        const dev = this.h.oids.get(n('oid'), 'spi');
        const miso = this.inputPin(n('miso_pin'));
        const mosi = this.outputPin(n('mosi_pin'));
        const sclk = this.outputPin(n('sclk_pin'));
        if (dev.hw || dev.sw) throw new Shutdown('Invalid spi config');
        // The old command took a rate; the new one takes ticks per SCLK period.
        const pulseTicks = name === 'spi_set_sw_bus' ? n('pulse_ticks') : Math.floor(profile.clockFreq / Math.max(1, n('rate')));
        dev.sw = { miso, mosi, sclk, mode, pulseTicks };
        return true;
      }
      case 'spi_transfer': {
        const out = this.spiTransfer(this.h.oids.get(n('oid'), 'spi'), p.data as Uint8Array, true);
        this.h.sendf('spi_transfer_response', { oid: n('oid'), response: out });
        return true;
      }
      case 'spi_send':
        this.spiTransfer(this.h.oids.get(n('oid'), 'spi'), p.data as Uint8Array, false);
        return true;
      case 'config_sdio':
        this.h.oids.assign(n('oid'), { kind: 'sdio', blocksize: n('blocksize'), speed: 400_000, buffer: new Uint8Array(SDIO_BUFFER) });
        return true;
      case 'sdio_set_bus': {
        const dev = this.h.oids.get(n('oid'), 'sdio');
        const bus = n('sdio_bus');
        if (!Object.values(profile.sdioBuses).includes(bus)) throw new Shutdown('Invalid sdio bus');
        dev.bus = bus;
        dev.speed = 400_000;
        this.sdioCard(dev)?.sdioSetSpeed(dev.speed);
        return true;
      }
      case 'sdio_set_speed': {
        const dev = this.h.oids.get(n('oid'), 'sdio');
        dev.speed = n('speed');
        this.sdioCard(dev)?.sdioSetSpeed(dev.speed);
        return true;
      }
      case 'sdio_send_command': {
        const oid = n('oid');
        const dev = this.h.oids.get(oid, 'sdio');
        const card = this.sdioCard(dev);
        this.cardTime();
        const r = card ? card.sdioSendCommand(n('cmd'), n('argument') >>> 0, n('wait') as SdioWaitType) : { error: SdioError.CMD_RESPONSE_TIMEOUT, response: new Uint8Array(0) };
        this.h.spend((48 * 2 * 1e6) / Math.max(dev.speed, 1));
        this.cardClocked();
        this.h.sendf('sdio_send_command_response', { oid, error: r.error, response: r.response });
        return true;
      }
      case 'sdio_read_data':
        this.sdioData(n('oid'), 'sdio_read_data_response', 'read', (card, dev) => {
          const r = card.sdioReadData(n('cmd'), n('argument') >>> 0, dev.blocksize, 1);
          if (r.error === SdioError.OK) dev.buffer.set(r.data.subarray(0, dev.blocksize));
          return r.error;
        });
        return true;
      case 'sdio_write_data':
        this.sdioData(n('oid'), 'sdio_write_data_response', 'write', (card, dev) => card.sdioWriteData(n('cmd'), n('argument') >>> 0, dev.buffer.slice(0, dev.blocksize), dev.blocksize).error);
        return true;
      case 'sdio_read_data_buffer': {
        const oid = n('oid');
        const dev = this.h.oids.get(oid, 'sdio');
        const offset = n('offset');
        let len = n('len');
        if (offset + len > SDIO_BUFFER) len = 0;
        this.h.sendf('sdio_read_data_buffer_response', { oid, data: dev.buffer.slice(offset, offset + len) });
        return true;
      }
      case 'sdio_write_data_buffer': {
        const dev = this.h.oids.get(n('oid'), 'sdio');
        const offset = n('offset');
        const data = p.data as Uint8Array;
        if (offset + data.length <= SDIO_BUFFER) dev.buffer.set(data, offset);
        return true;
      }
      default:
        return false;
    }
  }

  /**
   * sdio_read_data / sdio_write_data: one block between the card and the MCU's buffer, answered
   * with the error and the byte count moved. A block larger than the buffer moves nothing.
   */
  private sdioData(oid: number, response: string, countKey: 'read' | 'write', op: (card: SimulatedSdCard, dev: SdioDev) => number): void {
    const dev = this.h.oids.get(oid, 'sdio');
    const card = this.sdioCard(dev);
    this.cardTime();
    let error: number = SdioError.CMD_RESPONSE_TIMEOUT;
    let count = 0;
    if (dev.blocksize > SDIO_BUFFER) error = SdioError.OK;
    else if (card) {
      error = op(card, dev);
      if (error === SdioError.OK) count = dev.blocksize;
      this.h.spend(((dev.blocksize + 8) * 8 * 1e6) / Math.max(dev.speed, 1));
      this.cardClocked();
    }
    this.h.sendf(response, { oid, error, [countKey]: count });
  }

  private outputPin(pin: number): number {
    if (!this.h.validPins.has(pin)) throw new Shutdown(this.h.profile.reasons.badOutputPin);
    return pin;
  }

  private inputPin(pin: number): number {
    if (!this.h.validPins.has(pin)) throw new Shutdown(this.h.profile.reasons.badInputPin);
    return pin;
  }

  /**
   * Let the card see the time that passed since the MCU last clocked it. The MCU's clock, not
   * the host's: a transfer's own bus clocks advance the card themselves (`cardClocked` after it).
   */
  private cardTime(): void {
    const now = this.h.now();
    this.h.card?.elapse(Math.max(0, (now - this.lastCardTime) * 1000));
    this.lastCardTime = now;
  }

  /** The transfer that just ran clocked the card for the time it spent: not idle time. */
  private cardClocked(): void {
    this.lastCardTime = this.h.now();
  }

  private spiCardFor(dev: SpiDev): SimulatedSdCard | undefined {
    const w = this.h.wiring;
    const card = this.h.card;
    if (!w || !card || dev.cs === undefined || dev.csActiveHigh || w.kind === 'sdio') return undefined;
    if (w.kind === 'spi') return dev.hw && dev.hw.bus === w.bus && dev.cs === w.cs ? card : undefined;
    return dev.sw && dev.sw.miso === w.miso && dev.sw.mosi === w.mosi && dev.sw.sclk === w.sclk && dev.cs === w.cs ? card : undefined;
  }

  private sdioCard(dev: SdioDev): SimulatedSdCard | undefined {
    const w = this.h.wiring;
    return w?.kind === 'sdio' && dev.bus === w.bus ? this.h.card : undefined;
  }

  /** spidev_transfer: an unconfigured bus leaves the data as it was (the firmware returns early). */
  private spiTransfer(dev: SpiDev, data: Uint8Array, receive: boolean): Uint8Array {
    if (!dev.hw && !dev.sw) return data;
    const hz = dev.hw
      ? Math.min(dev.hw.rate, this.h.profile.maxSpiHz)
      : this.h.profile.clockFreq / Math.max(dev.sw!.pulseTicks, 1) / (1 + 0.5); // bit-banging overhead
    const card = this.spiCardFor(dev);
    if (!card) {
      this.h.spend((data.length * 8 * 1e6) / Math.max(hz, 1));
      return receive ? new Uint8Array(data.length).fill(0xff) : data;
    }
    this.cardTime();
    this.h.spend((data.length * 8 * 1e6) / Math.max(hz, 1));
    card.setSpiClock(hz);
    card.spiSelect(true);
    const out = card.spiTransfer(data);
    card.spiSelect(false);
    this.cardClocked();
    return receive ? out : data;
  }
}

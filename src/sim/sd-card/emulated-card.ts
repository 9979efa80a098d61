/**
 * An SD card in software, backed by a `SyncBlockDevice` (usually an image file). It answers
 * like a real card on both of its interfaces: the SPI byte stream (`card-spi-engine.ts`) and
 * the SD-bus command level an STM32 SDIO controller sees (`card-sd-engine.ts`); what they
 * share is in `card-core.ts`. See `card-interface.ts` for the contracts.
 *
 * Time: the card has its own clock in microseconds, advanced by bus clocks (8 bits per SPI
 * byte at the SPI rate; command, response and data bits at the SDIO rate) and by `elapse()`.
 * Programming after a write and read access latency are spans of that clock, so a fast bus
 * polls more busy bytes and a slow link sees none.
 */
import type { SyncBlockDevice } from '../../disk/block-device.js';
import type {
  SdCardFaults,
  SdCardMode,
  SdCardStats,
  SdioCommandResult,
  SdioDataResult,
  SimulatedSdCard,
} from './card-interface.js';
import type { SdioErrorCode, SdioWaitType } from '../../sdcard/sdio-codes.js';
import { CardCore, type CardTiming, type EmulatedSdCardOptions } from './card-core.js';
import { SdBusEngine } from './card-sd-engine.js';
import { SpiCardEngine } from './card-spi-engine.js';

export { DEFAULT_CARD_TIMING, type CardTiming, type EmulatedSdCardOptions } from './card-core.js';

export class EmulatedSdCard implements SimulatedSdCard {
  private readonly core: CardCore;
  private readonly spi: SpiCardEngine;
  private readonly sd: SdBusEngine;

  constructor(opts: EmulatedSdCardOptions) {
    this.core = new CardCore(opts);
    const reset = () => this.resetProtocol();
    this.spi = new SpiCardEngine(this.core, reset);
    this.sd = new SdBusEngine(this.core, reset);
    this.core.onPowerLoss = reset;
  }

  /* ------------------------------------------------------------ the card's facts */

  get device(): SyncBlockDevice {
    return this.core.device;
  }
  get faults(): SdCardFaults {
    return this.core.faults;
  }
  get stats(): SdCardStats {
    return this.core.stats;
  }
  get timing(): CardTiming {
    return this.core.timing;
  }
  get capacityType(): 'SDSC' | 'SDHC' | 'SDXC' {
    return this.core.capacityType;
  }
  get specVersion(): 1 | 2 {
    return this.core.specVersion;
  }
  get writeProtect(): boolean {
    return this.core.writeProtect;
  }
  set writeProtect(on: boolean) {
    this.core.writeProtect = on;
  }
  get mode(): SdCardMode {
    return this.core.mode;
  }
  get inserted(): boolean {
    return this.core.inserted;
  }
  get busWidth(): 1 | 4 {
    return this.core.busWidth;
  }
  /** Block addressing (SDHC/SDXC) rather than byte addressing. */
  get highCapacity(): boolean {
    return this.core.highCapacity;
  }
  /** Sectors addressable through the card (from its CSD). */
  get sectorCount(): number {
    return this.core.sectorCount;
  }
  /** Capacity in bytes the CSD announces. */
  reportedCapacity(): number {
    return this.core.reportedCapacity();
  }
  /** The CSD as the card reports it now (write-protect and capacity faults included). */
  csd(): Uint8Array {
    return this.core.csd();
  }
  cidRegister(): Uint8Array {
    return this.core.cidRegister();
  }

  /* ------------------------------------------------------------ physical world */

  private resetProtocol(): void {
    this.core.reset();
    this.spi.reset();
    this.sd.reset();
  }
  powerCycle(): void {
    this.resetProtocol();
  }
  insert(): void {
    this.core.inserted = true;
    this.resetProtocol();
  }
  remove(): void {
    this.core.inserted = false;
    this.resetProtocol();
  }
  elapse(micros: number): void {
    if (micros > 0) this.core.now += micros;
  }

  /* ------------------------------------------------------------ SPI face */

  setSpiClock(hz: number): void {
    this.spi.setClock(hz);
  }
  spiSelect(selected: boolean): void {
    this.spi.select(selected);
  }
  spiTransfer(data: Uint8Array): Uint8Array {
    return this.spi.transfer(data);
  }

  /* ------------------------------------------------------------ SD-bus face */

  sdioSetSpeed(hz: number): void {
    this.sd.setSpeed(hz);
  }
  sdioSendCommand(cmd: number, argument: number, wait: SdioWaitType): SdioCommandResult {
    return this.sd.sendCommand(cmd, argument, wait);
  }
  sdioReadData(cmd: number, argument: number, blockSize: number, blockCount = 1): SdioDataResult {
    return this.sd.readData(cmd, argument, blockSize, blockCount);
  }
  sdioWriteData(cmd: number, argument: number, data: Uint8Array, blockSize: number): { error: SdioErrorCode } {
    return this.sd.writeData(cmd, argument, data, blockSize);
  }
}

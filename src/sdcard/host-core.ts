/**
 * What the SPI and SDIO host drivers share: one card conversation at a time, the card's facts
 * after identification, a budget of lost answers per operation, the range check and the write
 * guard before anything is sent. A driver supplies only what its bus does differently:
 * `identify`, `goIdle` and its `BlockTransfers`.
 */
import { noTrace, type Trace } from '../progress.js';
import { LossAccount } from './loss-account.js';
import { sdError } from './sd-errors.js';
import { SD_BLOCK, type SdCardInfo, type SdHost } from './sd-host.js';
import { SerialLock } from './serial-lock.js';

/** The options every driver takes. */
export interface SdHostCommonOptions {
  /**
   * Answers the link may lose in a row without progress (a block read or written, an
   * initialisation step) before the operation fails with "link-lossy". Default 24. Each
   * operation also has an overall bound (see `LossBudget`).
   */
  lossesWithoutProgress?: number;
  /** Milliseconds clock (injectable for tests). Default `performance.now`. */
  now?: () => number;
  /** Debug trace (namespace "sdcard:spi" or "sdcard:sdio"): init steps, retries, failures. */
  trace?: Trace;
}

export interface SdHostCoreSetup {
  namespace: 'sdcard:spi' | 'sdcard:sdio';
  /** How the bus's lost-answer error reads in a trace line, or undefined when `e` is not one. */
  describeLoss: (e: unknown) => string | undefined;
}

/** How a bus moves blocks; `address` turns a block number into what a data command takes. */
export interface BlockTransfers {
  read(lba: number, count: number, address: (lba: number) => number): Promise<Uint8Array>;
  write(lba: number, data: Uint8Array, address: (lba: number) => number): Promise<void>;
}

export abstract class SdHostCore implements SdHost {
  protected readonly now: () => number;
  protected readonly trace: (message: string) => void;
  protected readonly losses: LossAccount;
  private readonly lock = new SerialLock();
  private _info: SdCardInfo | undefined;

  constructor(options: SdHostCommonOptions, setup: SdHostCoreSetup) {
    this.now = options.now ?? (() => performance.now());
    const trace = options.trace ?? noTrace;
    this.trace = (m) => trace(setup.namespace, m);
    this.losses = new LossAccount({
      perProgress: Math.max(1, options.lossesWithoutProgress ?? 24),
      describe: setup.describeLoss,
      trace: this.trace,
    });
  }

  /** Run the bus's identification sequence; resolve with the card's facts (see `cardInfo`). */
  protected abstract identify(): Promise<SdCardInfo>;
  /** Put the card back to idle, as Klipper's host does when done. */
  protected abstract goIdle(): Promise<void>;
  /** Reads and writes of block ranges already checked against the card (and its write-protect). */
  protected abstract readonly transfers: BlockTransfers;

  get info(): SdCardInfo | undefined {
    return this._info;
  }

  get blocksMoved(): number {
    return this.losses.moved;
  }

  init(): Promise<SdCardInfo> {
    return this.lock.run(async () => {
      this._info = undefined;
      this.losses.start(0);
      this._info = await this.identify();
      return this._info;
    });
  }

  deinit(): Promise<void> {
    return this.lock.run(async () => {
      this._info = undefined;
      this.losses.start(0);
      await this.goIdle();
    });
  }

  readBlocks(lba: number, count: number): Promise<Uint8Array> {
    return this.lock.run(async () => {
      const info = this.ready(lba, count);
      this.losses.start(count);
      return this.transfers.read(lba, count, (at) => blockAddress(info, at));
    });
  }

  writeBlocks(lba: number, data: Uint8Array): Promise<void> {
    return this.lock.run(async () => {
      if (data.length % SD_BLOCK !== 0) {
        throw sdError('sd-out-of-range', `${data.length} bytes is not a whole number of ${SD_BLOCK}-byte blocks`, { bytes: data.length });
      }
      const count = data.length / SD_BLOCK;
      const info = this.ready(lba, count);
      if (info.writeProtected) {
        throw sdError('sd-write-protected', 'the card is write-protected (its CSD says so)', {
          permanent: info.csd.permanentWriteProtect,
          temporary: info.csd.temporaryWriteProtect,
        });
      }
      this.losses.start(count);
      await this.transfers.write(lba, data, (at) => blockAddress(info, at));
    });
  }

  /** The card is identified and `count` blocks from `lba` lie on it. */
  private ready(lba: number, count: number): SdCardInfo {
    const info = this._info;
    if (!info) throw sdError('sd-not-initialized', 'the SD card has not been initialised', {});
    if (!Number.isSafeInteger(lba) || lba < 0 || !Number.isSafeInteger(count) || count < 0 || lba + count > info.sectorCount) {
      throw sdError('sd-out-of-range', `sectors ${lba}..${lba + count - 1} lie outside the card (${info.sectorCount} sectors)`, {
        lba,
        count,
        sectorCount: info.sectorCount,
      });
    }
    return info;
  }
}

/** The address a data command takes: block numbers on SDHC/SDXC, bytes on SDSC. */
function blockAddress(info: SdCardInfo, lba: number): number {
  return info.highCapacity ? lba : lba * SD_BLOCK;
}

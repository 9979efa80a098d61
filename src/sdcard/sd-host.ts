/**
 * What an SD host driver (SPI or SDIO) offers the layers above: the card's facts after
 * initialisation and whole-block I/O. `SdBlockDevice` turns it into a `BlockDevice`.
 */
import type { CidInfo } from './cid.js';
import type { CardCapacityType, CsdInfo } from './csd.js';

export interface SdCardInfo {
  bus: 'spi' | 'sdio';
  /** 1 for Physical Layer 1.x cards (no CMD8), 2 for everything newer. */
  specVersion: 1 | 2;
  capacityType: CardCapacityType;
  /** Block addressing (SDHC/SDXC, OCR CCS=1) rather than byte addressing (SDSC). */
  highCapacity: boolean;
  capacityBytes: number;
  /** 512-byte sectors, from the CSD. */
  sectorCount: number;
  /** CSD permanent or temporary write-protect: the card will refuse writes. */
  writeProtected: boolean;
  /** CRC checking of commands and data was switched on (SPI CMD59; always on over SDIO). */
  crcEnabled: boolean;
  /** Relative card address (SDIO only). */
  rca?: number;
  cid: CidInfo;
  csd: CsdInfo;
  cidRaw: Uint8Array;
  csdRaw: Uint8Array;
}

/**
 * Contracts:
 * - `init()` runs the full initialisation; it may be called again to re-initialise (after a
 *   card swap or an error) and returns the fresh facts. `info` is undefined before.
 * - `readBlocks`/`writeBlocks` take 512-byte block numbers; `data.length` is a multiple of
 *   512; the range is checked against `info.sectorCount` before anything is sent.
 * - A resolved `writeBlocks` means every block was accepted and the card left busy with no
 *   error in its status.
 * - Failures are `DeviceError`s (see `sd-errors.ts` for codes) with a hint for the user;
 *   those a retry may fix carry `transient` (the drivers have retried them already).
 */
export interface SdHost {
  readonly info: SdCardInfo | undefined;
  init(): Promise<SdCardInfo>;
  readBlocks(lba: number, count: number): Promise<Uint8Array>;
  writeBlocks(lba: number, data: Uint8Array): Promise<void>;
  /** Put the card back to idle (CMD0, and CRC off over SPI), as Klipper's host does when done. */
  deinit(): Promise<void>;
  /** Blocks moved so far (and init steps), counted as each one completes: for progress within a long transfer. */
  readonly blocksMoved?: number;
}

export const SD_BLOCK = 512;

/**
 * The emulated SD card as the simulated Klipper MCU (`src/sim/`) drives it.
 *
 * Two faces, because a real card has two: the SPI byte level that Klipper's `spi_transfer` /
 * `spi_send` clock through (`src/spicmds.c`), and the SD-bus command level that Klipper's
 * `sdio_*` commands reach through the STM32 SDIO peripheral (`src/sdiocmds.c`,
 * `src/stm32/sdio.c`). Which face answers is decided the way a real card decides it: CMD0
 * with chip-select low puts the card into SPI mode and it stays there until `powerCycle()`.
 * An SDIO access to a card in SPI mode times out (error `CMD_RESPONSE_TIMEOUT`). A card in
 * SD mode leaves MISO high and ignores SPI traffic except CMD0 with CS low, which (as the spec
 * allows) switches it to SPI mode — one way only.
 *
 * The host side of the same conversation (what our driver sees through the MCU) is in
 * `src/sdcard/bus.ts`; the SDIO error and wait codes both sides share are in
 * `src/sdcard/sdio-codes.ts`.
 */
import type { SyncBlockDevice } from '../../disk/block-device.js';
import type { SdioErrorCode, SdioWaitType } from '../../sdcard/sdio-codes.js';

/* ---------------------------------------------------------------- SPI face */

/**
 * SPI byte level, full duplex.
 *
 * Contracts:
 * - `spiTransfer` returns exactly `data.length` bytes: byte i of the result is what the card
 *   drove on MISO while byte i of `data` was clocked in on MOSI.
 * - Bytes clocked while the card is not selected are ignored and read back 0xFF, except that
 *   ≥74 clocks with CS high are what a card wants after power-up (not enforced).
 * - Deselecting does NOT abort a command or a data transfer in progress: Klipper releases CS
 *   after every `spi_transfer`/`spi_send` message, so a 512-byte block spans many selections.
 *   The card's state machine only advances while it is clocked with CS low, as on real cards.
 */
export interface SdCardSpiFace {
  spiSelect(selected: boolean): void;
  spiTransfer(data: Uint8Array): Uint8Array;
  /**
   * The SPI clock the MCU runs (from `spi_set_bus` rate or software-SPI timing). The card uses
   * it to turn its busy and access times into a number of busy/0xFF bytes on MISO.
   * Default 400 kHz.
   */
  setSpiClock(hz: number): void;
}

/* ---------------------------------------------------------------- SD bus (SDIO) face */

/**
 * Result of one command, shaped like the STM32 controller hands it to Klipper:
 * - `SHORT`: 4 bytes, the response's bits 39..8 (card status, OCR, RCA+status, or the
 *   CMD8 echo) big-endian, i.e. `RESP1`.
 * - `LONG`: 16 bytes, the response's bits 127..1 then a 0 bit, i.e. `RESP1..RESP4`: the CID
 *   or CSD with its CRC7 in the top 7 bits of byte 15 and bit 0 clear.
 * - `NO_RESPONSE`: empty.
 * On R3 (ACMD41) the error is `CRC_FAIL` with the OCR in `response`, as on real hardware: R3
 * carries no CRC and the controller flags it (Klipper's host ignores that error for ACMD41).
 * On `CMD_RESPONSE_TIMEOUT` the response is empty.
 */
export interface SdioCommandResult {
  error: SdioErrorCode;
  response: Uint8Array;
}

export interface SdioDataResult {
  error: SdioErrorCode;
  /**
   * What arrived: `blockSize * blockCount` bytes on success; on `CRC_FAIL` the damaged
   * block(s) are there too (as a controller's FIFO would hold them); empty when no data phase
   * happened (command refused or timed out, card gone).
   */
  data: Uint8Array;
}

/**
 * SD-bus command level: what the MCU's `sdio_send_command`, `sdio_read_data`,
 * `sdio_write_data` and `sdio_set_speed` do to the card. The MCU keeps its own 4096-byte data
 * buffer for `sdio_read_data_buffer` / `sdio_write_data_buffer`; the card never sees those.
 */
export interface SdCardSdioFace {
  /** `sdio_send_command oid cmd argument wait`. */
  sdioSendCommand(cmd: number, argument: number, wait: SdioWaitType): SdioCommandResult;
  /**
   * `sdio_read_data oid cmd argument`: send `cmd` (CMD17 or CMD18, with a short response) and
   * read `blockCount` blocks of `blockSize` bytes (Klipper: always 1 block of the
   * `config_sdio` blocksize). After CMD18 the card keeps streaming until CMD12.
   */
  sdioReadData(cmd: number, argument: number, blockSize: number, blockCount?: number): SdioDataResult;
  /**
   * `sdio_write_data oid cmd argument`: send `cmd` (CMD24 or CMD25) and write `data`
   * (`blockSize * n` bytes). Returns once the data phase ends; the card may still be busy
   * programming (the host polls CMD13). After CMD25 the card accepts more until CMD12.
   */
  sdioWriteData(cmd: number, argument: number, data: Uint8Array, blockSize: number): { error: SdioErrorCode };
  /** `sdio_set_speed oid speed`: the bus clock in Hz. */
  sdioSetSpeed(hz: number): void;
}

/* ---------------------------------------------------------------- faults and stats */

/**
 * Fault hooks for the reliability tests. Mutable: set a field and the next matching
 * operation misbehaves. Counters (`…Count`) decrement as they fire; `undefined` or 0 is off.
 */
export interface SdCardFaults {
  /** Reject the next N written blocks: SPI data-response `0b101` CRC error or `0b110` write error; SDIO `CRC_FAIL`. */
  rejectWrites?: { count: number; kind: 'crc' | 'write-error' };
  /** Send the next N read blocks (and CID/CSD over SPI) with a wrong CRC16. */
  readCrcErrorCount?: number;
  /**
   * The next busy period (after a written block, CMD12 or stop-tran) never ends: MISO stays
   * low, the SDIO status stays `prg`. Clear it and `powerCycle()` to recover.
   */
  stayBusy?: boolean;
  /** Behave as if pulled out after this many more data blocks have been transferred (read or written). */
  removeAfterBlocks?: number;
  /** Report a capacity in the CSD other than the backing image's size (bytes; a multiple of 512). */
  csdCapacityBytes?: number;
  /**
   * Past the image's real end (with a lying CSD): `wrap` (default) stores block n at
   * n mod size, as counterfeit cards do; `error` fails those reads and writes.
   */
  pastRealEnd?: 'wrap' | 'error';
  /** Ignore commands entirely (no answer): a dead card or a wrong CS pin. */
  silent?: boolean;
}

/** Running totals, so the simulator's link model can charge time and tests can count. */
export interface SdCardStats {
  commands: number;
  blocksRead: number;
  blocksWritten: number;
  /** Time the card spent busy or in access latency, in microseconds (programming, NAC, init). */
  busyMicros: number;
  /** Bytes clocked through the SPI face while selected. */
  spiBytes: number;
}

/** The card's interface mode: fixed by the first CMD0 after power-up. */
export type SdCardMode = 'unset' | 'spi' | 'sd';

/* ---------------------------------------------------------------- the whole card */

/** The emulated card as the simulator holds it: both faces plus the physical world. */
export interface SimulatedSdCard extends SdCardSpiFace, SdCardSdioFace {
  /** The card's storage, for the simulated bootloader, which reads the card on its own. */
  readonly device: SyncBlockDevice;
  readonly mode: SdCardMode;
  readonly inserted: boolean;
  /** Data bus width set with ACMD6 (1 or 4); Klipper's STM32 driver only runs 1-bit. */
  readonly busWidth: 1 | 4;
  /** Mechanical write-protect (the lock slider, which microSD lacks) and CSD TMP_WRITE_PROTECT. */
  writeProtect: boolean;
  readonly faults: SdCardFaults;
  readonly stats: SdCardStats;
  /** Power off and on: back to idle, mode unset, CRC off, all transfers and faults-in-progress dropped. */
  powerCycle(): void;
  /** Put the card (back) in the slot: the slot powers it, so it starts fresh as after `powerCycle()`. */
  insert(): void;
  /** Pull the card out: every access now times out (SDIO) or reads 0xFF (SPI). */
  remove(): void;
  /**
   * Time passes without bus clocks (the gaps between MCU messages). The card counts time only
   * through clocks and this call, so busy periods end when the simulator's link model says so.
   */
  elapse(micros: number): void;
}

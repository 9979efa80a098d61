/**
 * The narrow buses our SD host drivers talk through. The Klipper-backed implementations
 * (`spi_transfer`/`spi_send`, `sdio_*` commands) live in `src/adapters/`, between the Klipper
 * protocol and this folder; the in-process ones that wire straight to an emulated card, for
 * tests, are in `test/helpers/direct-bus.ts`.
 */
import type { SdioErrorCode, SdioWaitType } from './sdio-codes.js';

/**
 * SPI with the card's chip-select handled by the bus.
 *
 * Contracts:
 * - `transfer(data)` clocks `data` out and resolves with exactly `data.length` bytes clocked
 *   in. `send(data)` clocks `data` out and discards what comes back (Klipper's `spi_send`:
 *   no reply message, so it costs no round trip).
 * - Any length is accepted. Klipper carries at most 64 bytes per message block (5 bytes of
 *   framing, the message id, oid and a length byte), so an implementation splits longer data
 *   into several `spi_transfer`/`spi_send` messages. The MCU releases CS after each message;
 *   SD cards tolerate that, their state only advances while clocked.
 * - Calls are executed in the order they are made, even when the implementation keeps
 *   several messages in flight. A caller may start `send`s without awaiting each one.
 * - Errors (lost MCU, shutdown) reject with a typed `FwcardError`.
 * - When the data was clocked but part of what came back was lost on the way (a corrupted
 *   answer on a serial link), `transfer` rejects with `SpiResponseLost` (lost-response.ts):
 *   the bytes that did arrive, in their places, and the ranges that did not. The card saw
 *   every byte; the caller decides how to get back in step with it.
 */
export interface SpiBus {
  transfer(data: Uint8Array): Promise<Uint8Array>;
  send(data: Uint8Array): Promise<void>;
}

/** Reply of `sdio_send_command`: `error` is an `SdioError` code, `response` 0, 4 or 16 bytes. */
export interface SdioCommandReply {
  error: SdioErrorCode;
  response: Uint8Array;
}

/** Reply of `sdio_read_data` / `sdio_write_data`: bytes moved between card and MCU buffer. */
export interface SdioDataReply {
  error: SdioErrorCode;
  bytes: number;
}

/**
 * Klipper's `sdio_*` commands, one method each. The MCU holds a data buffer (4096 bytes in
 * Klipper) between the card and the host: a read is `readData` then `readBuffer`, a write is
 * `writeBuffer` then `writeData`.
 *
 * Contracts:
 * - `blockSize` is the `config_sdio blocksize` the bus was configured with (512 for us).
 * - `readBuffer(offset, length)` / `writeBuffer(offset, data)` accept any length within the
 *   MCU buffer; implementations split to the message size (Klipper's `len` is one byte and a
 *   message block holds 64 bytes).
 * - Commands run in call order; errors of the link reject with a typed `FwcardError`, while
 *   the card's own errors come back as `error` codes for the driver to interpret.
 */
export interface SdioBus {
  readonly blockSize: number;
  /** `sdio_send_command oid cmd argument wait`. */
  sendCommand(cmd: number, argument: number, wait: SdioWaitType): Promise<SdioCommandReply>;
  /** `sdio_read_data oid cmd argument`: one block from the card into the MCU buffer. */
  readData(cmd: number, argument: number): Promise<SdioDataReply>;
  /** `sdio_write_data oid cmd argument`: one block from the MCU buffer to the card. */
  writeData(cmd: number, argument: number): Promise<SdioDataReply>;
  /** `sdio_read_data_buffer oid offset len`. */
  readBuffer(offset: number, length: number): Promise<Uint8Array>;
  /** `sdio_write_data_buffer oid offset data`. */
  writeBuffer(offset: number, data: Uint8Array): Promise<void>;
  /** `sdio_set_speed oid speed`. */
  setSpeed(hz: number): Promise<void>;
}

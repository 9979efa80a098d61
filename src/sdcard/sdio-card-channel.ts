/**
 * The SD-bus commands of the SDIO driver, one `sdio_send_command` each, with the controller's
 * error codes and the card's status bits turned into typed errors.
 */
import type { SdioBus, SdioCommandReply } from './bus.js';
import { cmdName } from './command-names.js';
import type { LossAccount } from './loss-account.js';
import { hex, SDIO_SILENT_HINT, sdError } from './sd-errors.js';
import { Cmd, STATUS_ERROR_MASK } from './sd-protocol.js';
import { SdioError, SdioWait, type SdioWaitType } from './sdio-codes.js';
import type { DeviceError } from '../errors.js';

const ERROR_NAMES: Record<number, string> = {
  1: 'error',
  2: 'timeout',
  3: 'no response',
  4: 'CRC failure',
  5: 'wrong response',
  6: 'wrong block size',
  7: 'data timeout',
  8: 'read overrun',
  9: 'write underrun',
  10: 'no data memory',
};

/** A controller error code in words. */
export function errName(e: number): string {
  return ERROR_NAMES[e] ?? `error ${e}`;
}

/** A 4-byte short response as the 32-bit word it carries (card status, OCR). */
export function word(r: Uint8Array): number {
  return ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
}

/** The card status in an answer that came back whole, or undefined. */
export function statusOf(r: SdioCommandReply | undefined): number | undefined {
  return r && r.error === SdioError.OK && r.response.length === 4 ? word(r.response) : undefined;
}

function timedOut(r: SdioCommandReply): boolean {
  return r.error === SdioError.CMD_RESPONSE_TIMEOUT || r.error === SdioError.TIMEOUT;
}

export class SdioCardChannel {
  /** Relative card address, published by CMD3; the commands after identification carry it. */
  rca = 0;

  constructor(
    readonly bus: SdioBus,
    private readonly losses: LossAccount,
  ) {}

  silent(what: string): DeviceError {
    return sdError('sd-no-card', `no card answered ${what} on the SDIO bus`, { command: what }, { hint: SDIO_SILENT_HINT });
  }

  /** A command whose answer must come whole: 4 bytes for a short answer, 16 for a long one. */
  private async answer(cmd: number, arg: number, wait: SdioWaitType, failure: 'sd-command-failed' | 'sd-register-crc'): Promise<Uint8Array> {
    const what = cmdName(cmd);
    const r = await this.bus.sendCommand(cmd, arg, wait);
    if (timedOut(r)) throw this.silent(what);
    if (r.error !== SdioError.OK || r.response.length !== (wait === SdioWait.LONG ? 16 : 4)) {
      throw sdError(failure, `${what} failed: ${errName(r.error)}`, { command: cmd, error: r.error });
    }
    return r.response;
  }

  /** A command with an R1 answer whose error bits must be clear. */
  async r1(cmd: number, arg: number): Promise<number> {
    const status = word(await this.answer(cmd, arg, SdioWait.SHORT, 'sd-command-failed'));
    if (status & STATUS_ERROR_MASK) {
      throw sdError('sd-command-failed', `the card reported status ${hex(status, 8)} to ${cmdName(cmd)}`, { command: cmd, status });
    }
    return status;
  }

  /** CID or CSD: a long (R2) answer. */
  register(cmd: number, arg: number): Promise<Uint8Array> {
    return this.answer(cmd, arg, SdioWait.LONG, 'sd-register-crc');
  }

  async appCmd(): Promise<SdioCommandReply> {
    const r = await this.bus.sendCommand(Cmd.APP_CMD, this.rca << 16, SdioWait.SHORT);
    if (timedOut(r)) throw this.silent(cmdName(Cmd.APP_CMD));
    return r;
  }

  /**
   * CMD13 status, without judging it. Asked again when the answer is lost; the error bits it
   * carried are then lost too (the card clears them once reported), but the data commands'
   * own results still tell a failed transfer.
   */
  async status(): Promise<number> {
    const what = cmdName(Cmd.SEND_STATUS);
    const r = await this.losses.retry(what, () => this.bus.sendCommand(Cmd.SEND_STATUS, this.rca << 16, SdioWait.SHORT));
    if (timedOut(r)) throw this.silent(what);
    if (r.error !== SdioError.OK || r.response.length !== 4) {
      throw sdError('sd-command-failed', `${what} failed: ${errName(r.error)}`, { error: r.error });
    }
    return word(r.response);
  }
}

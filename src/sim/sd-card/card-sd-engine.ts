/**
 * The emulated card's SD-bus face at the command level, as an STM32 SDIO controller driven
 * by Klipper's sdio_* commands sees it: the card identification state machine (idle, ready,
 * ident, stby, tran, data, rcv, prg), R1/R2/R3/R6/R7 responses and single/multi-block data.
 */
import type { SdioCommandResult, SdioDataResult } from './card-interface.js';
import { SdioError, SdioWait, type SdioErrorCode, type SdioWaitType } from '../../sdcard/sdio-codes.js';
import { BLOCK, type CardCore } from './card-core.js';
import { CardState, Cmd, Ocr, R1, Status, type CardStateName } from '../../sdcard/sd-protocol.js';

/** What the card put on the CMD line in SD mode. */
type SdResponse =
  | { kind: 'none' }
  | { kind: 'short'; value: number; crc: boolean }
  | { kind: 'long'; reg: Uint8Array };

export class SdBusEngine {
  private sdioHz = 400_000;
  /** Next block of a CMD18/CMD25 that CMD12 has not ended yet. */
  private sdNextBlock = 0;

  constructor(
    private readonly card: CardCore,
    /** Full protocol reset of the card (CMD0 resets both faces). */
    private readonly resetCard: () => void,
  ) {}

  reset(): void {
    this.sdNextBlock = 0;
  }

  setSpeed(hz: number): void {
    if (hz > 0) this.sdioHz = hz;
  }

  private tick(bits: number): void {
    this.card.now += (bits * 1e6) / this.sdioHz;
  }

  private statusWord(stateBefore: CardStateName): number {
    let s = this.card.pending | (CardState[stateBefore] << 9);
    // READY_FOR_DATA is low while the card programs (DAT0 busy).
    if (stateBefore !== 'prg') s |= Status.READY_FOR_DATA;
    if (this.card.appCmd) s |= Status.APP_CMD;
    this.card.pending = 0;
    return s >>> 0;
  }

  /** One SD-mode command as the card sees it on the CMD line. */
  private sdCommand(cmd: number, arg: number): SdResponse {
    this.card.stats.commands++;
    if (this.card.state === 'prg' && !this.card.busy()) this.card.state = 'tran';
    const app = this.card.appCmd;
    this.card.appCmd = false;
    const before = this.card.state;
    const addressed = (arg >>> 16) === this.card.rca;
    const illegal = (): SdResponse => {
      this.card.pending |= Status.ILLEGAL_COMMAND;
      return { kind: 'none' };
    };
    const r1 = (): SdResponse => ({ kind: 'short', value: this.statusWord(before), crc: true });

    if (cmd === Cmd.GO_IDLE_STATE) {
      this.resetCard();
      this.card.mode = 'sd';
      return { kind: 'none' };
    }
    if (app && cmd === Cmd.SD_SEND_OP_COND) {
      if (this.card.state !== 'idle') return illegal();
      // A zero voltage window is an inquiry: report the OCR without starting initialisation.
      if ((arg & Ocr.VDD_27_36) !== 0) this.card.acmd41(arg);
      return { kind: 'short', value: this.card.ocr(), crc: false };
    }
    if (app && cmd === Cmd.SET_BUS_WIDTH) {
      if (this.card.state !== 'tran') return illegal();
      this.card.busWidth = (arg & 3) === 2 ? 4 : 1;
      return r1();
    }
    switch (cmd) {
      case Cmd.SEND_IF_COND: {
        if (this.card.specVersion === 1 || this.card.state !== 'idle') return illegal();
        const vhs = (arg >>> 8) & 0xf;
        // A card that cannot work at the asked voltage stays silent.
        if (vhs !== 1) return { kind: 'none' };
        return { kind: 'short', value: (vhs << 8) | (arg & 0xff), crc: true };
      }
      case Cmd.APP_CMD:
        if (this.card.state !== 'idle' && !addressed) return { kind: 'none' };
        this.card.appCmd = true;
        return { kind: 'short', value: this.statusWord(before) | Status.APP_CMD, crc: true };
      case Cmd.ALL_SEND_CID:
        if (this.card.state !== 'ready') return illegal();
        this.card.state = 'ident';
        return { kind: 'long', reg: this.card.cidRegister() };
      case Cmd.SEND_RELATIVE_ADDR: {
        if (this.card.state !== 'ident' && this.card.state !== 'stby') return illegal();
        this.card.rca = this.card.publishedRca;
        this.card.state = 'stby';
        const s = this.statusWord(before);
        // R6 squeezes status bits 23, 22, 19 into 15, 14, 13 beside bits 12..0.
        const packed = (((s >>> 23) & 1) << 15) | (((s >>> 22) & 1) << 14) | (((s >>> 19) & 1) << 13) | (s & 0x1fff);
        return { kind: 'short', value: ((this.card.rca << 16) | packed) >>> 0, crc: true };
      }
      case Cmd.SEND_CSD:
      case Cmd.SEND_CID:
        if (this.card.state !== 'stby') return illegal();
        if (!addressed) return { kind: 'none' };
        return { kind: 'long', reg: cmd === Cmd.SEND_CSD ? this.card.csd() : this.card.cidRegister() };
      case Cmd.SELECT_CARD:
        if (!addressed) {
          // Another address deselects us: no answer from this card.
          if (this.card.state === 'tran' || this.card.state === 'prg') this.card.state = this.card.state === 'prg' ? 'prg' : 'stby';
          return { kind: 'none' };
        }
        if (this.card.state !== 'stby' && this.card.state !== 'tran') return illegal();
        this.card.state = 'tran';
        return r1();
      case Cmd.SEND_STATUS:
        if (['idle', 'ready', 'ident'].includes(this.card.state)) return illegal();
        if (!addressed) return { kind: 'none' };
        return r1();
      case Cmd.SET_BLOCKLEN:
        if (this.card.state !== 'tran') return illegal();
        if (arg !== BLOCK && !this.card.highCapacity) this.card.pending |= Status.BLOCK_LEN_ERROR;
        return r1();
      case Cmd.STOP_TRANSMISSION:
        if (this.card.state === 'data') {
          this.card.state = 'tran';
          return r1();
        }
        if (this.card.state === 'rcv') {
          this.card.state = 'prg';
          this.card.startBusy(this.card.timing.stopBusyUs);
          return r1();
        }
        return illegal();
      case Cmd.READ_SINGLE_BLOCK:
      case Cmd.READ_MULTIPLE_BLOCK:
      case Cmd.WRITE_BLOCK:
      case Cmd.WRITE_MULTIPLE_BLOCK: {
        if (this.card.state !== 'tran') return illegal();
        const { block, error } = this.card.blockOf(arg);
        const writing = cmd === Cmd.WRITE_BLOCK || cmd === Cmd.WRITE_MULTIPLE_BLOCK;
        const refused = error
          ? error === R1.ADDRESS_ERROR
            ? Status.ADDRESS_ERROR
            : Status.OUT_OF_RANGE
          : writing && this.card.writeProtect
            ? Status.WP_VIOLATION
            : 0;
        if (refused) {
          // Reported in this response and kept for the next CMD13: Klipper's MCU drops the
          // response of a data command, so the host can only learn it from CMD13.
          this.card.pending |= refused;
          const res = r1();
          this.card.pending |= refused;
          return res;
        }
        const res = r1();
        this.sdNextBlock = block;
        this.card.state = writing ? 'rcv' : 'data';
        return res;
      }
      default:
        return illegal();
    }
  }

  sendCommand(cmd: number, argument: number, wait: SdioWaitType): SdioCommandResult {
    const r = this.command(cmd, argument, wait);
    // A data command sent on its own moves no data here; a single-block one is over at once.
    if (this.card.state === 'data' && cmd === Cmd.READ_SINGLE_BLOCK) this.card.state = 'tran';
    return r;
  }

  private command(cmd: number, argument: number, wait: SdioWaitType): SdioCommandResult {
    const empty = new Uint8Array(0);
    this.tick(48 + (wait === SdioWait.LONG ? 136 : wait === SdioWait.SHORT ? 48 : 0) + 8);
    if (!this.card.alive || this.card.mode === 'spi') {
      // A card in SPI mode no longer listens to SD-bus commands until it is power-cycled.
      return { error: wait === SdioWait.NO_RESPONSE ? SdioError.OK : SdioError.CMD_RESPONSE_TIMEOUT, response: empty };
    }
    if (this.card.mode === 'unset') this.card.mode = 'sd';
    return this.controllerView(this.sdCommand(cmd & 0x3f, argument >>> 0), wait);
  }

  /** How the STM32 controller reports a response: see `SdioCommandResult`. */
  private controllerView(res: SdResponse, wait: SdioWaitType): SdioCommandResult {
    const empty = new Uint8Array(0);
    if (wait === SdioWait.NO_RESPONSE) return { error: SdioError.OK, response: empty };
    if (res.kind === 'none') return { error: SdioError.CMD_RESPONSE_TIMEOUT, response: empty };
    if (wait === SdioWait.SHORT) {
      if (res.kind === 'long') return { error: SdioError.CRC_FAIL, response: res.reg.slice(0, 4) };
      const v = res.value >>> 0;
      const response = Uint8Array.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
      return { error: res.crc ? SdioError.OK : SdioError.CRC_FAIL, response };
    }
    if (res.kind !== 'long') return { error: SdioError.CMD_RESPONSE_TIMEOUT, response: empty };
    const reg = res.reg.slice();
    reg[15] = reg[15]! & 0xfe; // the controller keeps bits 127..1; bit 0 reads as 0
    return { error: SdioError.OK, response: reg };
  }

  private validBlockSize(n: number): boolean {
    return n >= 1 && n <= 16384 && (n & (n - 1)) === 0;
  }

  readData(cmd: number, argument: number, blockSize: number, blockCount = 1): SdioDataResult {
    const empty = new Uint8Array(0);
    if (!this.validBlockSize(blockSize)) return { error: SdioError.WRONG_BLOCKSIZE, data: empty };
    const c = this.command(cmd, argument, SdioWait.SHORT);
    if (c.error !== SdioError.OK) return { error: c.error, data: empty };
    if (this.card.state !== 'data') return { error: SdioError.DATA_TIMEOUT, data: empty };
    const out = new Uint8Array(blockSize * blockCount);
    let error: SdioErrorCode = SdioError.OK;
    for (let i = 0; i < blockCount; i++) {
      this.tick(((BLOCK + 2) * 8) / this.card.busWidth + 2);
      this.card.stats.busyMicros += this.card.timing.readAccessUs;
      this.card.now += this.card.timing.readAccessUs;
      if (this.sdNextBlock >= this.card.sectorCount) {
        this.card.pending |= Status.OUT_OF_RANGE;
        error = SdioError.DATA_TIMEOUT;
        break;
      }
      if (this.card.pulledOut()) return { error: SdioError.DATA_TIMEOUT, data: empty };
      if (this.card.missing(this.sdNextBlock)) {
        this.card.pending |= Status.ERROR;
        error = SdioError.DATA_TIMEOUT;
        break;
      }
      const blk = this.card.readBlock(this.sdNextBlock++);
      if (blockSize !== BLOCK) {
        error = SdioError.CRC_FAIL; // the controller framed the wrong length: the CRC falls apart
      } else if (this.card.takeReadCrcFault()) {
        blk[0] = blk[0]! ^ 0x01; // a bit flipped on the wire
        error = SdioError.CRC_FAIL;
      }
      out.set(blk.subarray(0, blockSize), i * blockSize);
      if (error) break;
    }
    if (cmd === Cmd.READ_SINGLE_BLOCK) this.card.state = 'tran';
    return { error, data: out };
  }

  writeData(cmd: number, argument: number, data: Uint8Array, blockSize: number): { error: SdioErrorCode } {
    if (!this.validBlockSize(blockSize) || data.length % blockSize !== 0) return { error: SdioError.WRONG_BLOCKSIZE };
    const c = this.command(cmd, argument, SdioWait.SHORT);
    if (c.error !== SdioError.OK) return { error: c.error };
    // A rejected command (write-protect, bad address) leaves the card in tran: no CRC status comes back.
    if (this.card.state !== 'rcv') return { error: SdioError.DATA_TIMEOUT };
    if (blockSize !== BLOCK) return { error: SdioError.CRC_FAIL };
    const blocks = data.length / BLOCK;
    for (let i = 0; i < blocks; i++) {
      this.tick(((BLOCK + 2) * 8) / this.card.busWidth + 8);
      if (this.sdNextBlock >= this.card.sectorCount) {
        this.card.pending |= Status.OUT_OF_RANGE;
        return { error: SdioError.DATA_TIMEOUT };
      }
      if (this.card.pulledOut()) return { error: SdioError.DATA_TIMEOUT };
      const reject = this.card.missing(this.sdNextBlock) ? 'write-error' : this.card.takeWriteReject();
      if (reject) {
        // Negative CRC status from the card: the controller flags a data CRC failure.
        if (reject === 'write-error') this.card.pending |= Status.ERROR;
        if (cmd === Cmd.WRITE_BLOCK) this.card.state = 'tran';
        return { error: SdioError.CRC_FAIL };
      }
      this.card.writeBlock(this.sdNextBlock++, data.slice(i * BLOCK, (i + 1) * BLOCK));
      this.card.startBusy(this.card.timing.writeBusyUs);
    }
    if (cmd === Cmd.WRITE_BLOCK) this.card.state = 'prg';
    return { error: SdioError.OK };
  }
}

/**
 * The SD card's SPI-mode protocol, host side (SD Physical Layer spec, chapter 7), over any
 * `SpiBus`: through a Klipper MCU's `spi_transfer`/`spi_send`, or straight into an emulated
 * card. Initialisation follows the spec's flow (and what Klipper's script does); the command
 * level is `spi-card-channel.ts`, the block runs `spi-block-transfers.ts`, and what this
 * driver shares with the SDIO one `host-core.ts`.
 */
import type { SpiBus } from './bus.js';
import { cardInfo } from './card-info.js';
import { cmdName } from './command-names.js';
import { SdHostCore, type SdHostCommonOptions } from './host-core.js';
import { isResponseLost } from './lost-response.js';
import { hex, isTransient, sdError } from './sd-errors.js';
import { SD_BLOCK, type SdCardInfo } from './sd-host.js';
import { ACMD41_HCS, Cmd, Ocr, R1 } from './sd-protocol.js';
import { SpiBlockTransfers } from './spi-block-transfers.js';
import { NCR_MAX, SpiCardChannel } from './spi-card-channel.js';
import type { FwcardError } from '../errors.js';

export interface SpiSdHostOptions extends SdHostCommonOptions {
  /** Switch on CRC checks of commands and data with CMD59, as Klipper does. Default true. */
  crc?: boolean;
  /** CMD0 attempts before "no card". Default 10. */
  resetTries?: number;
  /** SPI clock in Hz; turns the time limits below into byte budgets. Default 400 kHz. */
  busHz?: number;
  /** ACMD41 may take up to 1 s by the spec. Default 2000 ms. */
  initTimeoutMs?: number;
  /** Read access: 100 ms by the spec. Default 250 ms. */
  readTimeoutMs?: number;
  /** Write busy: 250 ms (SDSC) / 500 ms (SDHC) by the spec. Default 1000 ms. */
  busyTimeoutMs?: number;
  /** Blocks per CMD18/CMD25. Default 128. */
  maxBlocksPerCommand?: number;
  /** Attempts per run after a CRC error on the wire. Default 3. */
  retries?: number;
  /**
   * Answers the link may lose (SpiResponseLost) in a row without progress before the
   * operation fails. Default 24: at a byte error rate of 1e-3 about half the attempts at a
   * block lose an answer (a 512-byte block comes back in ten 64-byte messages), so 24 losses
   * in a row (some twenty failed attempts) come about once in a million blocks, while a link
   * that loses every answer still fails within a second.
   */
  lossesWithoutProgress?: number;
}

const CHECK_PATTERN = 0xaa;

export class SpiSdHost extends SdHostCore {
  private readonly card: SpiCardChannel;
  protected readonly transfers: SpiBlockTransfers;
  private readonly crc: boolean;
  private readonly resetTries: number;
  private readonly initTimeoutMs: number;
  private readonly retries: number;

  constructor(bus: SpiBus, options: SpiSdHostOptions = {}) {
    super(options, {
      namespace: 'sdcard:spi',
      describeLoss: (e) => (isResponseLost(e) ? `answer lost on the link at byte ${e.offset}` : undefined),
    });
    this.crc = options.crc ?? true;
    this.resetTries = options.resetTries ?? 10;
    this.initTimeoutMs = options.initTimeoutMs ?? 2000;
    this.retries = Math.max(1, options.retries ?? 3);
    const timing = { busHz: options.busHz ?? 400_000, readTimeoutMs: options.readTimeoutMs ?? 250, busyTimeoutMs: options.busyTimeoutMs ?? 1000 };
    this.card = new SpiCardChannel(bus, timing, this.losses, this.now);
    const limits = { maxBlocksPerCommand: Math.max(1, options.maxBlocksPerCommand ?? 128), retries: this.retries };
    this.transfers = new SpiBlockTransfers(this.card, limits, this.losses, this.trace);
  }

  protected async goIdle(): Promise<void> {
    const r1 = await this.card.retryLost(cmdName(0), () => this.card.command(Cmd.GO_IDLE_STATE, 0));
    if (r1 === R1.IDLE) await this.card.retryLost(cmdName(59), () => this.card.command(Cmd.CRC_ON_OFF, 0));
  }

  protected async identify(): Promise<SdCardInfo> {
    const { card, losses } = this;
    // ≥74 clocks before the first command (spec 6.4.1); Klipper's bus holds CS low, which cards accept.
    await card.idle(10);
    card.stream.drop();
    // A card left busy by an interrupted session holds MISO low; let it finish first.
    if (!(await card.waitWhileLow())) {
      throw sdError('sd-busy-timeout', 'MISO stays low: the card is stuck busy, or no card is connected and the line has no pull-up', {});
    }
    await this.goIdleState();
    losses.progress();

    // CMD8 tells v2 cards from v1 ones (which call it illegal) and checks the voltage.
    const { r1: r8, r7 } = await card.retryLost(cmdName(8), async () => {
      const r = await card.command(Cmd.SEND_IF_COND, 0x100 | CHECK_PATTERN, NCR_MAX + 5);
      return { r1: r, r7: r === R1.IDLE ? await card.stream.take(4) : undefined };
    });
    let specVersion: 1 | 2 = 2;
    if (r8 & R1.ILLEGAL_COMMAND) {
      specVersion = 1;
    } else if (r8 === R1.IDLE && r7) {
      if ((r7[2]! & 0xf) !== 1 || r7[3] !== CHECK_PATTERN) {
        throw sdError('sd-voltage', `the card rejected the 2.7-3.6 V range in ${cmdName(8)} (answer ${Array.from(r7, (b) => hex(b)).join(' ')})`, {
          r7: Array.from(r7),
        });
      }
    } else {
      throw card.commandError(Cmd.SEND_IF_COND, r8);
    }
    losses.progress();

    this.trace(`CMD8: physical layer version ${specVersion}`);
    let crcEnabled = false;
    if (this.crc) {
      const r1 = await card.retryLost(cmdName(59), () => card.command(Cmd.CRC_ON_OFF, 1));
      crcEnabled = r1 === R1.IDLE;
      this.trace(`CMD59: CRC ${crcEnabled ? 'on' : `not switched on (R1 ${hex(r1)})`}`);
      losses.progress();
    }

    const polls = await this.waitReady(specVersion);
    losses.progress();

    // CMD58: the OCR's CCS bit says whether the card uses block addresses.
    const o = await card.retryLost(cmdName(58), async () => {
      const r = await card.command(Cmd.READ_OCR, 0, NCR_MAX + 5);
      if (r !== 0) throw card.commandError(Cmd.READ_OCR, r);
      return card.stream.take(4);
    });
    const ocr = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
    if ((ocr & Ocr.VDD_27_36) === 0) throw sdError('sd-voltage', `the card's OCR ${hex(ocr, 8)} lists no 2.7-3.6 V range`, { ocr });
    const highCapacity = specVersion === 2 && (ocr & Ocr.BUSY) !== 0 && (ocr & Ocr.CCS) !== 0;
    this.trace(`ACMD41 ready after ${polls} polls; OCR ${hex(ocr, 8)} (${highCapacity ? 'block' : 'byte'} addressing)`);
    losses.progress();

    if (!highCapacity) {
      const r1 = await card.retryLost(cmdName(16), () => card.command(Cmd.SET_BLOCKLEN, SD_BLOCK));
      if (r1 !== 0) throw card.commandError(Cmd.SET_BLOCKLEN, r1);
    }

    const cidRaw = await this.readRegister(Cmd.SEND_CID);
    losses.progress();
    const csdRaw = await this.readRegister(Cmd.SEND_CSD);
    return cardInfo({ bus: 'spi', specVersion, highCapacity, crcEnabled, cidRaw, csdRaw });
  }

  /** CMD0 until the card answers idle; in between, finish any block it still expects. */
  private async goIdleState(): Promise<void> {
    let r1 = 0xff;
    let sawAnswer = false;
    for (let i = 0; i < this.resetTries; i++) {
      try {
        r1 = await this.card.command(Cmd.GO_IDLE_STATE, 0);
      } catch (e) {
        // CMD0 is what starts over anyway: a lost answer just costs a try.
        this.losses.lost(e, 'CMD0 (GO_IDLE_STATE)');
        r1 = 0xff;
        sawAnswer = true;
      }
      this.trace(`CMD0 try ${i + 1}: R1 ${hex(r1)}`);
      if (r1 === R1.IDLE) return;
      if (r1 !== 0xff) sawAnswer = true;
      // Finish any block the card still expects from an interrupted write (Klipper does this too).
      await this.card.idle(SD_BLOCK + 8);
    }
    if (!sawAnswer) throw sdError('sd-no-card', `no card answered ${cmdName(0)} after ${this.resetTries} tries`, { tries: this.resetTries });
    throw sdError('sd-command-failed', `the card did not go idle on ${cmdName(0)} (R1 ${hex(r1)})`, { r1 });
  }

  /** ACMD41 until the card leaves idle; HCS tells it we can do block addressing. Resolves with the polls it took. */
  private async waitReady(specVersion: 1 | 2): Promise<number> {
    const start = this.now();
    for (let polls = 1; ; polls++) {
      let r1: number;
      try {
        r1 = await this.card.appCommand(Cmd.SD_SEND_OP_COND, specVersion === 2 ? ACMD41_HCS : 0);
      } catch (e) {
        // Asking again is what this loop does; only get back in step first.
        this.losses.lost(e, cmdName(41));
        await this.card.resync();
        r1 = R1.IDLE;
      }
      if (r1 === 0) return polls;
      if (r1 !== R1.IDLE) {
        if (r1 & R1.ILLEGAL_COMMAND) throw sdError('sd-unsupported-card', 'the card does not know ACMD41: it is probably an MMC card', { r1 });
        throw this.card.commandError(Cmd.SD_SEND_OP_COND, r1);
      }
      if (this.now() - start > this.initTimeoutMs || polls > 100_000) {
        throw sdError('sd-init-timeout', `the card stayed in idle state for ${polls} ACMD41 polls (${Math.round(this.now() - start)} ms)`, { polls });
      }
    }
  }

  /** CID or CSD: a 16-byte data block after R1, read again after a transient error. */
  private async readRegister(index: number): Promise<Uint8Array> {
    let last: FwcardError | undefined;
    for (let attempt = 0; attempt < this.retries; attempt++) {
      try {
        return await this.card.retryLost(cmdName(index), async () => {
          const r1 = await this.card.command(index, 0, NCR_MAX + 1 + 16 + 2 + 8);
          this.card.check(index, r1);
          return this.card.readDataBlock(16, index);
        });
      } catch (e) {
        if (!isTransient(e)) throw e;
        last = e;
      }
    }
    throw last!;
  }
}

/**
 * The SD-bus protocol, host side, over Klipper's `sdio_*` commands (`SdioBus`). The sequence
 * is the spec's card identification mode (CMD0, CMD8, ACMD41, CMD2, CMD3, CMD9, CMD7) as
 * Klipper's script runs it; the commands are `sdio-card-channel.ts`, the data
 * `sdio-block-transfers.ts`, and what this driver shares with the SPI one `host-core.ts`.
 */
import type { SdioBus } from './bus.js';
import { cardInfo } from './card-info.js';
import { cmdName } from './command-names.js';
import { SdHostCore, type SdHostCommonOptions } from './host-core.js';
import { isSdioResponseLost } from './lost-response.js';
import { hex, sdError } from './sd-errors.js';
import { SD_BLOCK, type SdCardInfo } from './sd-host.js';
import { ACMD41_HCS, Cmd, Ocr } from './sd-protocol.js';
import { SdioBlockTransfers } from './sdio-block-transfers.js';
import { errName, SdioCardChannel, word } from './sdio-card-channel.js';
import { SdioError, SdioWait } from './sdio-codes.js';

export interface SdioSdHostOptions extends SdHostCommonOptions {
  /** Bus clock after identification. Default 1 MHz, what Klipper's script sets. */
  speedHz?: number;
  /** ACMD41 may take up to 1 s by the spec. Default 2000 ms. */
  initTimeoutMs?: number;
  /** Write busy: 250/500 ms by the spec. Default 1000 ms. */
  busyTimeoutMs?: number;
  /** Attempts per block after a CRC failure on the wire. Default 3. */
  retries?: number;
  /** Blocks whose messages are queued at once. Default 16. */
  pipelineDepth?: number;
}

export class SdioSdHost extends SdHostCore {
  private readonly card: SdioCardChannel;
  protected readonly transfers: SdioBlockTransfers;
  private readonly speedHz: number;
  private readonly initTimeoutMs: number;

  constructor(bus: SdioBus, options: SdioSdHostOptions = {}) {
    super(options, {
      namespace: 'sdcard:sdio',
      describeLoss: (e) => (isSdioResponseLost(e) ? `the answer to ${e.command} was lost on the link` : undefined),
    });
    this.speedHz = options.speedHz ?? 1_000_000;
    this.initTimeoutMs = options.initTimeoutMs ?? 2000;
    this.card = new SdioCardChannel(bus, this.losses);
    const limits = {
      speedHz: this.speedHz,
      busyTimeoutMs: options.busyTimeoutMs ?? 1000,
      retries: Math.max(1, options.retries ?? 3),
      pipelineDepth: Math.max(1, options.pipelineDepth ?? 16),
    };
    this.transfers = new SdioBlockTransfers(this.card, limits, this.losses, this.trace, this.now);
  }

  protected async goIdle(): Promise<void> {
    await this.losses.retry(cmdName(0), () => this.card.bus.sendCommand(Cmd.GO_IDLE_STATE, 0, SdioWait.NO_RESPONSE));
  }

  /**
   * Identification moves the card through states (idle, ready, ident, stby, tran) and some
   * steps cannot be repeated where they left it: a second CMD2 is illegal in ident, an ACMD41
   * sent again without its CMD55 is a CMD41. So a lost answer starts over from CMD0.
   */
  protected async identify(): Promise<SdCardInfo> {
    for (;;) {
      try {
        const info = await this.identifyOnce();
        this.losses.progress();
        return info;
      } catch (e) {
        this.losses.lost(e, 'identifying the card');
      }
    }
  }

  private async identifyOnce(): Promise<SdCardInfo> {
    const { card } = this;
    const { bus } = card;
    card.rca = 0;
    const r0 = await bus.sendCommand(Cmd.GO_IDLE_STATE, 0, SdioWait.NO_RESPONSE);
    if (r0.error !== SdioError.OK) throw sdError('sd-command-failed', `CMD0 could not be sent: ${errName(r0.error)}`, { error: r0.error });

    // CMD8: v2 cards echo the check pattern; v1 cards (and absent ones) stay silent.
    let specVersion: 1 | 2 = 2;
    const r8 = await bus.sendCommand(Cmd.SEND_IF_COND, 0x1aa, SdioWait.SHORT);
    if (r8.error === SdioError.CMD_RESPONSE_TIMEOUT) specVersion = 1;
    else if (r8.error !== SdioError.OK || r8.response.length !== 4) {
      throw sdError('sd-command-failed', `CMD8 (SEND_IF_COND) failed: ${errName(r8.error)}`, { error: r8.error });
    } else if ((r8.response[2]! & 0xf) !== 1 || r8.response[3] !== 0xaa) {
      throw sdError('sd-voltage', `the card rejected the 2.7-3.6 V range in CMD8`, { response: Array.from(r8.response) });
    }

    const ocr = await this.waitReady(specVersion);
    if ((ocr & Ocr.VDD_27_36) === 0) throw sdError('sd-voltage', `the card's OCR ${hex(ocr, 8)} lists no 2.7-3.6 V range`, { ocr });
    const highCapacity = specVersion === 2 && (ocr & Ocr.CCS) !== 0;
    this.trace(`version ${specVersion} card ready; OCR ${hex(ocr, 8)} (${highCapacity ? 'block' : 'byte'} addressing)`);

    const cidRaw = await card.register(Cmd.ALL_SEND_CID, 0);
    const r3 = await bus.sendCommand(Cmd.SEND_RELATIVE_ADDR, 0, SdioWait.SHORT);
    if (r3.error !== SdioError.OK || r3.response.length !== 4) throw card.silent(cmdName(Cmd.SEND_RELATIVE_ADDR));
    // R6: RCA in the top half, then status bits 23, 22, 19 packed into 15..13.
    if (r3.response[2]! & 0xe0) throw sdError('sd-command-failed', 'the card reported an error publishing its address (CMD3)', { response: Array.from(r3.response) });
    card.rca = (r3.response[0]! << 8) | r3.response[1]!;
    this.trace(`CMD3: RCA ${hex(card.rca, 4)}`);
    const csdRaw = await card.register(Cmd.SEND_CSD, card.rca << 16);
    await card.r1(Cmd.SELECT_CARD, card.rca << 16);
    await bus.setSpeed(this.speedHz);
    await card.r1(Cmd.SET_BLOCKLEN, SD_BLOCK);
    return cardInfo({ bus: 'sdio', specVersion, highCapacity, crcEnabled: true, rca: card.rca, cidRaw, csdRaw });
  }

  /** ACMD41 until the card is powered up; resolves with its OCR. */
  private async waitReady(specVersion: 1 | 2): Promise<number> {
    const start = this.now();
    for (let polls = 1; ; polls++) {
      await this.card.appCmd();
      const r = await this.card.bus.sendCommand(Cmd.SD_SEND_OP_COND, (specVersion === 2 ? ACMD41_HCS : 0) | Ocr.VDD_27_36, SdioWait.SHORT);
      // R3 carries no CRC, so the controller reports CRC_FAIL on a good answer (Klipper ignores it too).
      if (r.error !== SdioError.OK && r.error !== SdioError.CRC_FAIL) throw this.card.silent(cmdName(Cmd.SD_SEND_OP_COND));
      const ocr = word(r.response);
      if (ocr & Ocr.BUSY) return ocr;
      if (this.now() - start > this.initTimeoutMs || polls > 100_000) {
        throw sdError('sd-init-timeout', `the card stayed busy initialising for ${polls} ACMD41 polls`, { polls });
      }
    }
  }
}

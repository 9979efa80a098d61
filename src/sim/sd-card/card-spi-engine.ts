/**
 * The emulated card's SPI face: a byte-at-a-time state machine (SD Physical Layer spec,
 * chapter 7). Every clocked byte first yields what the card drives on MISO, then feeds MOSI
 * to the command parser or the write-data receiver, so responses come at least one byte after
 * the command, as on a real card.
 */
import { crc16 } from '../../sdcard/crc16.js';
import { crc7Byte } from '../../sdcard/crc7.js';
import { BLOCK, type CardCore } from './card-core.js';
import { Cmd, DataErrorToken, DataResponse, R1, R2, Token } from '../../sdcard/sd-protocol.js';

interface OutSegment {
  bytes: Uint8Array;
  pos: number;
  /** The card drives 0xFF until its clock reaches this time (read access latency). */
  notBefore: number;
}

type SpiRx =
  | { kind: 'command' }
  | { kind: 'write-token'; multi: boolean; block: number }
  | { kind: 'write-data'; multi: boolean; block: number; buf: Uint8Array; n: number };

export class SpiCardEngine {
  private spiHz = 400_000;
  private selected = false;
  private crcOn = false;
  /** R2 error bits for the next CMD13. */
  private spiPendingR2 = 0;
  private cmdBuf = new Uint8Array(6);
  private cmdLen = 0;
  private out: OutSegment[] = [];
  private rx: SpiRx = { kind: 'command' };
  /** Next block of a CMD18 stream, or -1. */
  private streamBlock = -1;

  constructor(
    private readonly card: CardCore,
    /** Full protocol reset of the card (CMD0 resets both faces). */
    private readonly resetCard: () => void,
  ) {}

  reset(): void {
    this.crcOn = false;
    this.spiPendingR2 = 0;
    this.cmdLen = 0;
    this.out = [];
    this.rx = { kind: 'command' };
    this.streamBlock = -1;
  }

  setClock(hz: number): void {
    if (hz > 0) this.spiHz = hz;
  }

  select(selected: boolean): void {
    this.selected = selected;
  }

  transfer(data: Uint8Array): Uint8Array {
    const res = new Uint8Array(data.length);
    const byteUs = 8e6 / this.spiHz;
    for (let i = 0; i < data.length; i++) {
      this.card.now += byteUs;
      if (!this.selected || !this.card.alive) {
        res[i] = 0xff;
        continue;
      }
      this.card.stats.spiBytes++;
      res[i] = this.spiOut();
      this.spiIn(data[i]!);
    }
    return res;
  }

  private spiOut(): number {
    // A card not in SPI mode leaves MISO floating (pulled up).
    if (this.card.mode !== 'spi' && this.out.length === 0) return 0xff;
    for (;;) {
      const seg = this.out[0];
      if (seg) {
        if (this.card.now < seg.notBefore) return 0xff;
        const b = seg.bytes[seg.pos++]!;
        if (seg.pos >= seg.bytes.length) this.out.shift();
        return b;
      }
      if (this.card.busy()) return 0x00;
      if (this.streamBlock >= 0) {
        this.queueReadBlock(this.streamBlock++, true);
        continue;
      }
      return 0xff;
    }
  }

  private queue(bytes: number[] | Uint8Array, delayUs = 0): void {
    this.out.push({ bytes: bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes), pos: 0, notBefore: this.card.now + delayUs });
  }
  private respond(bytes: number[]): void {
    // NCR: the card answers 1..8 bytes after the command's last byte.
    const pad = new Array<number>(this.card.ncr - 1).fill(0xff);
    this.queue([...pad, ...bytes]);
  }

  private queueReadBlock(block: number, streaming: boolean): void {
    if (block >= this.card.sectorCount) {
      this.streamBlock = -1;
      this.queue([DataErrorToken.OUT_OF_RANGE], this.card.timing.readAccessUs);
      return;
    }
    if (this.card.pulledOut()) return;
    if (!streaming) this.streamBlock = -1;
    if (this.card.missing(block)) {
      this.streamBlock = -1;
      this.queue([DataErrorToken.ERROR], this.card.timing.readAccessUs);
      return;
    }
    const data = this.card.readBlock(block);
    this.queueDataBlock(data, this.card.timing.readAccessUs);
  }

  private queueDataBlock(data: Uint8Array, accessUs: number): void {
    let crc = crc16(data);
    if (this.card.takeReadCrcFault()) crc ^= 0x5a5a;
    const frame = new Uint8Array(data.length + 3);
    frame[0] = Token.START_BLOCK;
    frame.set(data, 1);
    frame[data.length + 1] = crc >> 8;
    frame[data.length + 2] = crc & 0xff;
    this.card.stats.busyMicros += accessUs;
    this.queue(frame, accessUs);
  }

  private spiIn(b: number): void {
    const rx = this.rx;
    if (rx.kind === 'write-token') {
      if (b === 0xff) return;
      if (!rx.multi && b === Token.START_BLOCK) {
        this.rx = { kind: 'write-data', multi: false, block: rx.block, buf: new Uint8Array(BLOCK + 2), n: 0 };
        return;
      }
      if (rx.multi && b === Token.START_MULTI_WRITE) {
        this.rx = { kind: 'write-data', multi: true, block: rx.block, buf: new Uint8Array(BLOCK + 2), n: 0 };
        return;
      }
      if (rx.multi && b === Token.STOP_TRAN) {
        // Stop-tran: one byte later the card goes busy while it finishes programming.
        this.rx = { kind: 'command' };
        this.queue([0xff]);
        this.card.startBusy(this.card.timing.stopBusyUs);
        return;
      }
      if ((b & 0xc0) !== 0x40) return;
      // A command instead of a data token abandons the write.
      this.rx = { kind: 'command' };
    } else if (rx.kind === 'write-data') {
      rx.buf[rx.n++] = b;
      if (rx.n === rx.buf.length) this.finishWrittenBlock(rx);
      return;
    }
    // Command parsing runs even while a block is streaming out: that is how CMD12 arrives.
    if (this.cmdLen === 0) {
      if ((b & 0xc0) !== 0x40 || this.card.busy()) return;
    }
    this.cmdBuf[this.cmdLen++] = b;
    if (this.cmdLen === 6) {
      this.cmdLen = 0;
      this.spiCommand(this.cmdBuf);
    }
  }

  private finishWrittenBlock(rx: Extract<SpiRx, { kind: 'write-data' }>): void {
    const data = rx.buf.subarray(0, BLOCK);
    const next: SpiRx = rx.multi ? { kind: 'write-token', multi: true, block: rx.block + 1 } : { kind: 'command' };
    this.rx = next;
    if (this.card.pulledOut()) return;
    const crcOk = !this.crcOn || crc16(data) === ((rx.buf[BLOCK]! << 8) | rx.buf[BLOCK + 1]!);
    const reject = this.card.takeWriteReject();
    let token: number = DataResponse.ACCEPTED;
    if (!crcOk || reject === 'crc') token = DataResponse.CRC_ERROR;
    else if (this.card.writeProtect) {
      token = DataResponse.WRITE_ERROR;
      this.spiPendingR2 |= R2.WP_VIOLATION;
    } else if (reject === 'write-error' || rx.block >= this.card.sectorCount || this.card.missing(rx.block)) {
      token = DataResponse.WRITE_ERROR;
      this.spiPendingR2 |= rx.block >= this.card.sectorCount ? R2.OUT_OF_RANGE : R2.ERROR;
    } else {
      this.card.writeBlock(rx.block, data.slice());
    }
    this.queue([token]);
    if (token === DataResponse.ACCEPTED) this.card.startBusy(this.card.timing.writeBusyUs);
    else if (rx.multi) {
      // After a rejected block the card waits for the host to stop the transfer.
      this.rx = { kind: 'write-token', multi: true, block: rx.block };
    }
  }

  private spiCommand(frame: Uint8Array): void {
    const index = frame[0]! & 0x3f;
    const arg = ((frame[1]! << 24) | (frame[2]! << 16) | (frame[3]! << 8) | frame[4]!) >>> 0;
    this.card.stats.commands++;
    const crcGood = crc7Byte(frame, 0, 5) === frame[5];

    if (this.card.mode !== 'spi') {
      // Not yet in SPI mode: the card speaks SD protocol, where every command's CRC counts.
      // Only CMD0 received with CS low switches it to SPI mode.
      if (index !== Cmd.GO_IDLE_STATE || !crcGood) return;
      this.resetCard();
      this.card.mode = 'spi';
      this.respond([R1.IDLE]);
      return;
    }

    // A new command ends whatever the card was still sending (only CMD12 keeps the stuff byte).
    if (index !== Cmd.STOP_TRANSMISSION) {
      this.out = [];
      this.streamBlock = -1;
    }
    const idle = this.card.state === 'idle' ? R1.IDLE : 0;
    // CMD8 is CRC-checked even with CRC off (spec 7.2.2); CMD0 too, as it may be the first.
    if ((this.crcOn || index === Cmd.SEND_IF_COND || index === Cmd.GO_IDLE_STATE) && !crcGood) {
      this.respond([idle | R1.COM_CRC_ERROR]);
      return;
    }
    const app = this.card.appCmd;
    this.card.appCmd = false;

    if (index === Cmd.STOP_TRANSMISSION) {
      // R1b: the byte after CMD12 is a stuff byte (the next data byte); then R1, then busy.
      const stuff = this.out[0] ? (this.out[0].bytes[this.out[0].pos] ?? 0xff) : 0xff;
      const wasStreaming = this.streamBlock >= 0 || this.out.length > 0;
      this.out = [];
      this.streamBlock = -1;
      this.queue([stuff, 0]);
      if (wasStreaming) this.card.startBusy(this.card.timing.stopBusyUs);
      return;
    }
    if (index === Cmd.GO_IDLE_STATE) {
      this.resetCard();
      this.card.mode = 'spi';
      this.respond([R1.IDLE]);
      return;
    }
    // In idle state only the initialisation commands are legal (spec 7.2.1 / 7.3.1.3).
    const initCmds: number[] = [Cmd.SEND_IF_COND, Cmd.APP_CMD, Cmd.READ_OCR, Cmd.CRC_ON_OFF];
    if (idle !== 0 && !(initCmds.includes(index) || (app && index === Cmd.SD_SEND_OP_COND))) {
      this.respond([idle | R1.ILLEGAL_COMMAND]);
      return;
    }

    if (app && index === Cmd.SD_SEND_OP_COND) {
      this.respond([this.card.acmd41(arg) ? 0 : R1.IDLE]);
      return;
    }
    switch (index) {
      case Cmd.SEND_IF_COND: {
        if (this.card.specVersion === 1) return this.respond([idle | R1.ILLEGAL_COMMAND]);
        // Voltage accepted only for the 2.7-3.6 V range (VHS = 0001); echo the check pattern.
        const vhs = (arg >>> 8) & 0xf;
        return this.respond([idle, 0x00, 0x00, vhs === 1 ? 1 : 0, arg & 0xff]);
      }
      case Cmd.APP_CMD:
        this.card.appCmd = true;
        return this.respond([idle]);
      case Cmd.READ_OCR: {
        const ocr = this.card.ocr();
        return this.respond([idle, ocr >>> 24, (ocr >>> 16) & 0xff, (ocr >>> 8) & 0xff, ocr & 0xff]);
      }
      case Cmd.CRC_ON_OFF:
        this.crcOn = (arg & 1) === 1;
        return this.respond([idle]);
      case Cmd.SET_BLOCKLEN:
        // Block length is fixed at 512 for SDHC; we do not do partial blocks on SDSC either.
        return this.respond([arg === BLOCK || this.card.highCapacity ? 0 : R1.PARAMETER_ERROR]);
      case Cmd.SEND_CSD:
      case Cmd.SEND_CID: {
        this.respond([0]);
        const reg = index === Cmd.SEND_CSD ? this.card.csd() : this.card.cidRegister();
        this.queueDataBlock(reg, 0);
        return;
      }
      case Cmd.SEND_STATUS: {
        const r2 = this.spiPendingR2;
        this.spiPendingR2 = 0;
        return this.respond([0, r2]);
      }
      case Cmd.READ_SINGLE_BLOCK:
      case Cmd.READ_MULTIPLE_BLOCK: {
        const { block, error } = this.card.blockOf(arg);
        this.respond([error]);
        if (error) return;
        this.queueReadBlock(block, false);
        if (index === Cmd.READ_MULTIPLE_BLOCK) this.streamBlock = block + 1;
        return;
      }
      case Cmd.WRITE_BLOCK:
      case Cmd.WRITE_MULTIPLE_BLOCK: {
        const { block, error } = this.card.blockOf(arg);
        this.respond([error]);
        if (error) return;
        this.rx = { kind: 'write-token', multi: index === Cmd.WRITE_MULTIPLE_BLOCK, block };
        return;
      }
      default:
        return this.respond([R1.ILLEGAL_COMMAND]);
    }
  }
}

/**
 * Firmware inspection: what a file is, which flash address it was linked for, what built
 * it (Klipper dictionary, Marlin strings), and — given a board — whether the board's stock
 * bootloader would take it and start it. Pure: bytes in, report out.
 */
import type { Board } from '../boards/types.js';
import { chituDecode, isChituCbd } from './chitu.js';
import { recogniseOtherFile, parseElf } from './file-kind.js';
import { findKlipperDictionary, summariseKlipper } from './klipper-dictionary.js';
import { determineLinkAddress, linkedForText } from './link-address.js';
import { findMarlin } from './marlin.js';
import { hex, mcuMemory, type McuFamily, type McuMemory } from './mcu-memory.js';
import { isMksScrambled, mksRobinXor } from './mks-robin.js';
import type { Finding, FirmwareReport, KlipperInfo, MarlinInfo } from './report.js';
import { parseVectorTable, type ParsedVectorTable } from './vector-table.js';

export { isMksScrambled };

export interface InspectOptions {
  board?: Board;
  fileName?: string;
}

const finding = (id: string, severity: Finding['severity'], message: string, hint = ''): Finding => ({ id, severity, message, hint });

/** Family from an MCU name we have no memory map for (null: not one of ours, e.g. atsamd21). */
function familyOfMcuName(mcu: string): McuFamily | null {
  if (/^(stm32|gd32|n32g|at32)/i.test(mcu)) return 'stm32';
  if (/^lpc17/i.test(mcu)) return 'lpc176x';
  if (/^hc32/i.test(mcu)) return 'hc32f460';
  return null;
}

/** Klipper's menuconfig wording for an application address. */
function menuText(addr: number, family: McuFamily | null): string {
  if (family === 'hc32f460') return `Application Address ${'0x' + addr.toString(16).toUpperCase().padStart(6, '0')}`;
  const off = addr - (family === 'stm32' || addr >= 0x08000000 ? 0x08000000 : 0);
  if (off === 0) return 'No bootloader';
  if (off === 0x20200) return '128KiB bootloader with 512 byte offset';
  return `${off / 1024}KiB bootloader`;
}

function rebuildHint(target: number[], family: McuFamily | null, builtBy: 'klipper' | 'marlin' | 'other'): string {
  const choices = target.map((a) => `"${menuText(a, family)}"`).join(' or ');
  if (builtBy === 'klipper' && family === 'hc32f460') return `Rebuild with ${choices} (make menuconfig), then use the new out/klipper.bin.`;
  if (builtBy === 'klipper') return `Rebuild with Bootloader offset ${choices} (make menuconfig), then use the new out/klipper.bin.`;
  if (builtBy === 'marlin') return `Rebuild with the PlatformIO environment for this board, whose board_build.offset is ${target.map((a) => hex(a - (family === 'stm32' ? 0x08000000 : 0))).join(' or ')}.`;
  return `Rebuild the firmware linked for ${target.map((a) => hex(a)).join(' or ')} (${choices}).`;
}

function boardSdPins(board: Board): string[] {
  const k = board.klipper;
  if (!k) return [];
  const pins = k.bus.kind === 'swspi' ? [k.bus.miso, k.bus.mosi, k.bus.sclk] : [];
  if (k.csPin) pins.push(k.csPin);
  return pins;
}

interface Decoded {
  image: Uint8Array;
  kind: FirmwareReport['kind'];
  format: string;
  findings: Finding[];
}

function decode(bytes: Uint8Array): Decoded {
  if (isChituCbd(bytes)) {
    const d = chituDecode(bytes);
    const findings = [finding('chitu-encoded', 'info', 'Chitu-encoded update file (.cbd); decoded for inspection')];
    if (!d.checksumOk) findings.push(finding('chitu-checksum', 'error', 'the .cbd checksum does not match its contents (damaged or truncated file)', 'Encode the .bin again (fwcard does it for Chitu boards) or download the file again.'));
    return { image: d.image, kind: 'chitu-cbd', format: 'Chitu .cbd update file', findings };
  }
  if (isMksScrambled(bytes)) {
    return { image: mksRobinXor(bytes), kind: 'mks-scrambled', format: 'MKS Robin scrambled firmware', findings: [finding('mks-scrambled', 'info', 'MKS Robin scrambled image (bytes 320-31039 XORed); unscrambled for inspection')] };
  }
  return { image: bytes, kind: 'cortex-m', format: 'ARM Cortex-M firmware image', findings: [] };
}

/** Inspect a firmware file, optionally against a board. Never throws on bad input: findings say what is wrong. */
export function inspectFirmware(bytes: Uint8Array, opts: InspectOptions = {}): FirmwareReport {
  const board = opts.board;
  const report: FirmwareReport = {
    kind: 'unknown',
    format: 'unknown',
    size: bytes.length,
    imageSize: bytes.length,
    flashStart: null,
    candidates: [],
    linkedFor: null,
    linkEvidence: [],
    family: null,
    mcu: null,
    vectorTable: null,
    klipper: null,
    marlin: null,
    elf: null,
    board: board?.name ?? null,
    findings: [],
  };
  const add = (f: Finding) => report.findings.push(f);
  const boardMem = board ? mcuMemory(board.mcu) : undefined;

  // 1. Files that are not an image at all.
  const elf = parseElf(bytes);
  if (elf) {
    report.kind = 'elf';
    report.format = 'ELF executable';
    report.elf = elf;
    const bin = opts.fileName && /\.elf$/i.test(opts.fileName) ? opts.fileName.replace(/\.elf$/i, '.bin') : 'out/klipper.bin';
    add(finding('elf-not-bin', 'error', 'this is the ELF (e.g. out/klipper.elf), not the raw image: SD bootloaders copy the file byte for byte', `Use the .bin of the same build (${bin}).`));
    if (elf.machine === 40 && elf.loadAddress !== null) {
      report.flashStart = elf.loadAddress;
      report.candidates = [elf.loadAddress];
      report.family = elf.loadAddress >= 0x08000000 ? 'stm32' : null;
      report.linkedFor = linkedForText(elf.loadAddress, report.family);
      if (board) checkAddress(report, board, 'other');
    }
    return report;
  }
  const other = recogniseOtherFile(bytes);
  if (other) {
    report.format = other.format;
    add(finding(other.id, 'error', other.message, other.hint));
    return report;
  }

  // 2. Encoded files are decoded, then inspected like plain images.
  const dec = decode(bytes);
  report.imageSize = dec.image.length;
  dec.findings.forEach(add);
  const img = dec.image;

  const found = findKlipperDictionary(img);
  const klipper: KlipperInfo | null = found ? summariseKlipper(found) : null;
  const marlin: MarlinInfo | null = klipper ? null : findMarlin(img);
  report.klipper = klipper;
  report.marlin = marlin;
  report.mcu = klipper?.mcu ?? null;
  const imageMem: McuMemory | undefined = report.mcu ? mcuMemory(report.mcu) : undefined;

  const vt = parseVectorTable(img, imageMem ? 16 + imageMem.irqCount + 1 : undefined);
  if (!vt && klipper && !imageMem) {
    // A Klipper build for an MCU whose memory map we do not model (RP2040, SAM, AVR, …).
    report.kind = 'unknown';
    report.format = `Klipper firmware for ${klipper.mcu ?? 'an unknown MCU'}`;
    add(finding('unsupported-mcu', board ? 'error' : 'warning', `Klipper build for ${klipper.mcu ?? 'an unknown MCU'}: fwcard knows the memory layout of STM32/GD32, LPC176x and HC32F460 boards only`, board ? `The ${board.name} has ${board.mcu}; rebuild for it.` : ''));
    return report;
  }
  if (!vt) {
    report.kind = 'unknown';
    report.format = 'unknown binary';
    add(finding('not-cortex-m', 'error', 'no ARM Cortex-M vector table at the start of the file: this is not a firmware image for an ARM board (or it is damaged)', 'Use the .bin your firmware build produced (Klipper: out/klipper.bin; Marlin: .pio/build/<env>/firmware*.bin).'));
    return report;
  }
  report.kind = dec.kind;
  report.format = dec.format;
  report.vectorTable = { initialSp: vt.initialSp, reset: vt.reset, entries: vt.entries, handlers: vt.handlers, klipperMarker: vt.klipperMarker };
  report.family = imageMem?.family ?? (report.mcu ? familyOfMcuName(report.mcu) : vt.family);

  // 3. The link address.
  const sameRegion = (a: number) => (a >= 0x08000000) === (vt.region.base === 0x08000000);
  const extra = board ? board.appStart.value.filter(sameRegion) : [];
  const la = determineLinkAddress(img, vt, { ...(imageMem ? { mem: imageMem } : {}), family: report.family, extra });
  report.flashStart = la.flashStart;
  report.candidates = la.candidates;
  report.linkEvidence = la.evidence;
  if (la.flashStart !== null) {
    report.linkedFor = linkedForText(la.flashStart, report.family);
    add(finding('linked-for', 'info', `linked for ${report.linkedFor}`));
  } else if (la.candidates.length > 1) {
    add(finding('link-address-ambiguous', 'warning', `the link address could not be pinned down; still possible: ${la.candidates.map((a) => linkedForText(a, report.family)).join(', ')}`, 'Check the bootloader offset you chose when building.'));
  } else {
    add(finding('link-address-unknown', 'warning', 'the vector table points outside the image for every usual link address', 'The file may be truncated or built for another memory layout.'));
  }

  // 4. What built it.
  if (klipper) {
    const itf = klipper.interface;
    const how = itf.kind === 'serial' ? `serial${itf.pins.length ? ` on ${itf.pins.join('/')}` : ''} at ${itf.baud} baud` : itf.kind === 'can' ? `CAN bus${itf.pins.length ? ` on ${itf.pins.join('/')}` : ''} at ${itf.canFrequency} bit/s` : itf.kind === 'usb-can-bridge' ? 'USB to CAN bus bridge' : itf.kind === 'usb' ? 'USB' : 'an unknown interface';
    add(finding('klipper', 'info', `Klipper ${klipper.version ?? '(no version)'} for ${klipper.mcu ?? 'an unknown MCU'}${klipper.clockFreq ? ` at ${klipper.clockFreq / 1e6} MHz` : ''}, talking ${how}`));
  } else if (marlin) {
    add(finding('marlin', 'info', `Marlin ${marlin.version}${marlin.machine ? ` for "${marlin.machine}"` : ''}`));
  }

  // 5. Size against the MCU the image says it is for.
  if (imageMem && la.flashStart !== null) {
    const room = imageMem.flashBase + imageMem.flashBytes - la.flashStart;
    if (img.length > room) add(finding('too-large', 'error', `the image (${img.length} bytes) is larger than the ${room} bytes of ${imageMem.mcu} flash above ${hex(la.flashStart)}`, 'Disable features you do not need (make menuconfig) or check the MCU choice.'));
  }

  if (board) checkBoard(report, board, boardMem, img, dec.kind, klipper ? 'klipper' : marlin ? 'marlin' : 'other', vt);
  return report;
}

function checkAddress(report: FirmwareReport, board: Board, builtBy: 'klipper' | 'marlin' | 'other'): void {
  const want = board.appStart.value;
  const family = mcuMemory(board.mcu)?.family ?? report.family;
  if (want.length === 0) {
    report.findings.push(finding('board-app-start-unknown', 'warning', `the application address of the ${board.name} bootloader is not known, so the link address cannot be checked`, 'Check the vendor instructions for the bootloader offset.'));
    return;
  }
  const wantText = want.map((a) => linkedForText(a, family)).join(' or ');
  if (report.flashStart !== null) {
    if (want.includes(report.flashStart)) return;
    const flashBase = family === 'stm32' ? 0x08000000 : 0;
    if (report.flashStart === flashBase) {
      report.findings.push(
        finding(
          'no-bootloader-build',
          'error',
          `built with "No bootloader" (linked for ${hex(flashBase)}): flashed over DFU it would overwrite the ${board.name} stock bootloader, and the SD bootloader will not start it (it starts the application at ${wantText})`,
          rebuildHint(want, family, builtBy),
        ),
      );
    } else {
      report.findings.push(
        finding(
          'wrong-offset',
          'error',
          `linked for ${linkedForText(report.flashStart, family)}, but the ${board.name} bootloader starts the application at ${wantText}: the board would not boot it`,
          rebuildHint(want, family, builtBy),
        ),
      );
    }
    return;
  }
  if (report.candidates.length > 0) {
    const ok = report.candidates.filter((c) => want.includes(c));
    if (ok.length === 0) {
      report.findings.push(finding('wrong-offset', 'error', `none of the possible link addresses (${report.candidates.map((a) => hex(a)).join(', ')}) is one the ${board.name} bootloader starts (${wantText})`, rebuildHint(want, family, builtBy)));
    }
  }
}

function checkBoard(report: FirmwareReport, board: Board, boardMem: McuMemory | undefined, img: Uint8Array, kind: FirmwareReport['kind'], builtBy: 'klipper' | 'marlin' | 'other', vt: ParsedVectorTable): void {
  const add = (f: Finding) => report.findings.push(f);
  // MCU.
  if (report.mcu && report.mcu !== board.mcu) {
    add(finding('mcu-mismatch', 'error', `built for ${report.mcu}, but the ${board.name} has ${board.mcu}`, `Rebuild with the right Processor model in make menuconfig (${board.mcu}), or check the board name.`));
  } else if (!report.mcu && boardMem && report.family && report.family !== boardMem.family) {
    add(finding('mcu-mismatch', 'error', `this image is for a ${report.family} MCU, but the ${board.name} has ${board.mcu}`, 'Use a build for this board.'));
  }
  if (boardMem && vt.region.base === boardMem.flashBase && vt.initialSp > boardMem.ramStart + boardMem.ramBytes && vt.initialSp <= boardMem.ramStart + 0x100000) {
    add(finding('stack-outside-ram', 'warning', `the initial stack pointer ${hex(vt.initialSp)} is above the ${boardMem.ramBytes / 1024} KiB of RAM of ${board.mcu}: built for a bigger chip?`, 'Check the Processor model you built for.'));
  }
  // Link address.
  checkAddress(report, board, builtBy);
  // Size above the bootloader.
  const flashBytes = board.flashBytes?.value ?? boardMem?.flashBytes;
  const start = report.flashStart ?? (board.appStart.value.length ? Math.min(...board.appStart.value) : null);
  if (flashBytes !== undefined && boardMem && start !== null) {
    const room = boardMem.flashBase + flashBytes - start;
    if (img.length > room) add(finding('too-large', 'error', `the image (${img.length} bytes) does not fit the ${room} bytes of flash above ${hex(start)} on the ${board.name}`, 'Disable features you do not need, or check the board and MCU.'));
  }
  // Encoding.
  const conv = board.klipper?.conversion ?? (board.conversion?.value === 'none' ? undefined : board.conversion?.value);
  if (kind === 'mks-scrambled' && conv !== 'mks-robin') add(finding('scrambled-for-other-board', 'error', `this file is MKS Robin scrambled, but the ${board.name} bootloader takes a plain image`, 'Use the unscrambled build (Klipper: out/klipper.bin).'));
  if (kind === 'chitu-cbd' && conv !== 'chitu-v6') add(finding('encoded-for-other-board', 'error', `this is a Chitu .cbd file, but the ${board.name} bootloader takes a plain image`, 'Use the plain build (Klipper: out/klipper.bin).'));
  if (kind === 'cortex-m' && conv === 'mks-robin') add(finding('will-scramble', 'info', `the ${board.name} bootloader takes MKS Robin scrambled files; fwcard scrambles it when writing`));
  if (kind === 'cortex-m' && conv === 'chitu-v6') add(finding('will-encode', 'info', `the ${board.name} bootloader takes Chitu .cbd files; fwcard encodes it as ${board.firmwareName.value} when writing`));
  // Interface sanity: the host link must not use the pins of the board's SD card.
  const itf = report.klipper?.interface;
  if (itf) {
    const sd = boardSdPins(board);
    const clash = itf.pins.filter((p) => sd.includes(p));
    if (clash.length) add(finding('interface-pins-conflict', 'warning', `the build's ${itf.kind} interface uses ${clash.join(', ')}, which the ${board.name} uses for its SD card`, 'Choose the communication interface of your wiring in make menuconfig (often USB, or the USART the board documents).'));
    if (itf.kind === 'unknown') add(finding('interface-unknown', 'warning', 'the build declares no USB, serial or CAN interface', 'Check the Communication interface in make menuconfig.'));
  }
}

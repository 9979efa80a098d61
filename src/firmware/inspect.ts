/**
 * Firmware inspection: what a file is, which flash address it was linked for, what built
 * it (Klipper dictionary, Marlin strings), and — given a board — whether the board's stock
 * bootloader would take it and start it. Pure: bytes in, report out.
 */
import type { Board } from '../boards/types.js';
import { checkBoard } from './board-check.js';
import { unwrapFirmware } from './containers.js';
import { recogniseOtherFile } from './file-kind.js';
import { findKlipperDictionary, summariseKlipper } from './klipper-dictionary.js';
import { determineLinkAddress, linkedForText, type LinkAddressResult } from './link-address.js';
import { findMarlin } from './marlin.js';
import { hex, mcuMemory, type McuFamily, type McuMemory } from './mcu-memory.js';
import { isMksScrambled } from './mks-robin.js';
import type { Finding, FirmwareReport, KlipperInfo, MarlinInfo } from './report.js';
import { parseVectorTable, regionOf } from './vector-table.js';

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
    linkAddress: { value: null, confidence: 'uncertain', candidates: [], basis: 'no image' },
    family: null,
    mcu: null,
    vectorTable: null,
    klipper: null,
    marlin: null,
    elf: null,
    hex: null,
    board: board?.name ?? null,
    findings: [],
  };
  const add = (f: Finding) => report.findings.push(f);
  const boardMem = board ? mcuMemory(board.mcu) : undefined;

  // 1. Containers (ELF, Intel HEX, Chitu, MKS) give up their image; other files are named.
  const wrapped = unwrapFirmware(bytes);
  if (wrapped) {
    report.kind = wrapped.kind;
    report.format = wrapped.format;
    report.elf = wrapped.elf;
    report.hex = wrapped.hex;
    wrapped.findings.forEach(add);
    if (!wrapped.image) return report;
  } else {
    const other = recogniseOtherFile(bytes);
    if (other) {
      report.format = other.format;
      add(finding(other.id, 'error', other.message, other.hint));
      return report;
    }
  }
  const img = wrapped?.image ?? bytes;
  const imageKind = wrapped?.imageKind ?? 'cortex-m';
  report.imageSize = img.length;

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
    report.kind = wrapped?.kind ?? 'unknown';
    report.format = `Klipper firmware for ${klipper.mcu ?? 'an unknown MCU'}`;
    add(finding('unsupported-mcu', board ? 'error' : 'warning', `Klipper build for ${klipper.mcu ?? 'an unknown MCU'}: fwcard knows the memory layout of STM32/GD32, LPC176x and HC32F460 boards only`, board ? `The ${board.name} has ${board.mcu}; rebuild for it.` : ''));
    return report;
  }
  if (!vt) {
    if (!wrapped || wrapped.kind === 'mks-scrambled' || wrapped.kind === 'chitu-cbd') {
      report.kind = 'unknown';
      report.format = 'unknown binary';
    }
    add(finding('not-cortex-m', 'error', 'no ARM Cortex-M vector table at the start of the image: this is not a firmware image for an ARM board (or it is damaged)', 'Use the .bin your firmware build produced (Klipper: out/klipper.bin; Marlin: .pio/build/<env>/firmware*.bin).'));
    return report;
  }
  if (!wrapped) {
    report.kind = 'cortex-m';
    report.format = 'ARM Cortex-M firmware image';
  }
  report.vectorTable = { initialSp: vt.initialSp, reset: vt.reset, entries: vt.entries, handlers: vt.handlers, klipperMarker: vt.klipperMarker };
  report.family = imageMem?.family ?? (report.mcu ? familyOfMcuName(report.mcu) : vt.family);

  // 2. The link address: stated by an ELF/HEX file, else from the image's own evidence.
  const sameRegion = (a: number) => regionOf(a) === vt.region;
  const extra = board ? board.appStart.value.filter(sameRegion) : [];
  const inferred = determineLinkAddress(img, vt, { ...(imageMem ? { mem: imageMem } : {}), family: report.family, extra });
  let la: LinkAddressResult = inferred;
  const stated = wrapped?.statedAddress;
  if (stated) {
    const handlersInside = vt.handlers.every((h) => h >= stated.value + vt.entries * 4 && h < stated.value + img.length);
    if (handlersInside) la = { ...inferred, flashStart: stated.value, confidence: 'certain', candidates: [stated.value], basis: stated.basis };
    else add(finding('stated-address-mismatch', 'warning', `the file places the image at ${hex(stated.value)}, but its vector table points outside it there`, 'The file may be damaged or hold more than one program: check how it was made.'));
  }
  report.flashStart = la.flashStart;
  report.candidates = la.candidates;
  report.linkEvidence = la.evidence;
  report.linkAddress = { value: la.flashStart, confidence: la.confidence, candidates: la.candidates, basis: la.basis };
  if (la.flashStart !== null) {
    report.linkedFor = linkedForText(la.flashStart, report.family);
    if (la.confidence === 'certain') add(finding('linked-for', 'info', `linked for ${report.linkedFor}`));
    else add(finding('linked-for', 'info', `probably linked for ${report.linkedFor} (${la.basis})`, 'Check the Bootloader offset you chose when building (make menuconfig).'));
  } else if (la.candidates.length > 1) {
    add(finding('link-address-ambiguous', 'warning', `the link address could not be pinned down; still possible: ${la.candidates.map((a) => linkedForText(a, report.family)).join(', ')}`, 'Check the bootloader offset you chose when building.'));
  } else {
    add(finding('link-address-unknown', 'warning', 'the vector table points outside the image for every usual link address', 'The file may be truncated or built for another memory layout.'));
  }

  // 3. What built it.
  if (klipper) {
    const itf = klipper.interface;
    const how = itf.kind === 'serial' ? `serial${itf.pins.length ? ` on ${itf.pins.join('/')}` : ''} at ${itf.baud} baud` : itf.kind === 'can' ? `CAN bus${itf.pins.length ? ` on ${itf.pins.join('/')}` : ''} at ${itf.canFrequency} bit/s` : itf.kind === 'usb-can-bridge' ? 'USB to CAN bus bridge' : itf.kind === 'usb' ? 'USB' : 'an unknown interface';
    add(finding('klipper', 'info', `Klipper ${klipper.version ?? '(no version)'} for ${klipper.mcu ?? 'an unknown MCU'}${klipper.clockFreq ? ` at ${klipper.clockFreq / 1e6} MHz` : ''}, talking ${how}`));
  } else if (marlin) {
    add(finding('marlin', 'info', `Marlin ${marlin.version}${marlin.machine ? ` for "${marlin.machine}"` : ''}`));
  }

  // 4. Size against the MCU the image says it is for (same address space only).
  if (imageMem && la.flashStart !== null && la.flashStart >= imageMem.flashBase && la.flashStart < imageMem.flashBase + imageMem.flashBytes) {
    const room = imageMem.flashBase + imageMem.flashBytes - la.flashStart;
    if (img.length > room) add(finding('too-large', 'error', `the image (${img.length} bytes) is larger than the ${room} bytes of ${imageMem.mcu} flash above ${hex(la.flashStart)}`, 'Disable features you do not need (make menuconfig) or check the MCU choice.'));
  }

  if (board) checkBoard(report, board, boardMem, img, imageKind, klipper ? 'klipper' : marlin ? 'marlin' : 'other', vt);
  return report;
}

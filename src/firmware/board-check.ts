/**
 * A firmware report judged against a board: MCU, link address against the stock
 * bootloader's application address, size against the flash above it, the encoding the
 * bootloader wants, and the host interface's pins. Addresses are compared only within one
 * address space: a build whose address lies in another MCU family's flash is named as such,
 * never measured in "KiB of bootloader" or bytes of the board's flash.
 */
import type { Board } from '../boards/types.js';
import { linkedForText } from './link-address.js';
import { hex, mcuMemory, type McuFamily, type McuMemory } from './mcu-memory.js';
import type { Finding, FirmwareReport } from './report.js';
import { regionOf, type ParsedVectorTable } from './vector-table.js';

const finding = (id: string, severity: Finding['severity'], message: string, hint = ''): Finding => ({ id, severity, message, hint });

/** Which MCUs' flash an address lies in, in words. */
export function addressSpaceName(addr: number): string {
  const r = regionOf(addr);
  if (!r) return `no known MCU family's flash`;
  return r.base === 0x08000000 ? 'the flash of STM32-type MCUs (STM32/GD32/AT32, flash at 0x08000000)' : 'the flash of LPC176x or HC32F460 MCUs (flash at 0x00000000)';
}

function inBoardFlash(addr: number, mem: McuMemory | undefined, family: McuFamily | null): boolean {
  const base = mem?.flashBase ?? (family === 'stm32' ? 0x08000000 : family ? 0 : null);
  if (base === null) return true;
  const r = regionOf(base);
  return r ? addr >= r.base && addr < r.base + r.span : true;
}

/** Klipper's menuconfig wording for an application address. */
export function menuText(addr: number, family: McuFamily | null): string {
  if (family === 'hc32f460') return `Application Address ${'0x' + addr.toString(16).toUpperCase().padStart(6, '0')}`;
  const off = addr - (addr >= 0x08000000 ? 0x08000000 : 0); // the address's own flash, whatever the board
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

function checkAddress(report: FirmwareReport, board: Board, builtBy: 'klipper' | 'marlin' | 'other'): void {
  const add = (f: Finding) => report.findings.push(f);
  const want = board.appStart.value;
  const mem = mcuMemory(board.mcu);
  const family = mem?.family ?? report.family;
  const la = report.linkAddress;
  const possible = la.value !== null ? [la.value] : la.candidates;
  // Another family's address space: say so, and compare nothing else.
  if (possible.length > 0 && possible.every((a) => !inBoardFlash(a, mem, family))) {
    const what = la.value !== null ? `linked for ${linkedForText(la.value)}` : `linked for one of ${possible.map((a) => hex(a)).join(', ')}`;
    add(
      finding(
        'other-family',
        'error',
        `${what}, an address in ${addressSpaceName(possible[0]!)}: this build is for another MCU family than the ${board.mcu} of the ${board.name} (flash at ${hex(mem?.flashBase ?? 0)})`,
        `Build for the ${board.name}: Processor model ${board.mcu} in make menuconfig${want.length ? `, ${rebuildHint(want, family, builtBy).replace(/^Rebuild with /, '')}` : ''}`,
      ),
    );
    return;
  }
  if (want.length === 0) {
    add(finding('board-app-start-unknown', 'warning', `the application address of the ${board.name} bootloader is not known, so the link address cannot be checked`, 'Check the vendor instructions for the bootloader offset.'));
    return;
  }
  const wantText = want.map((a) => linkedForText(a, family)).join(' or ');
  const checkText = `Check that the build used ${want.map((a) => `"${menuText(a, family)}"`).join(' or ')} (Bootloader offset in make menuconfig); if not, ${rebuildHint(want, family, builtBy).replace(/^Rebuild/, 'rebuild')}`;
  if (la.value !== null) {
    if (want.includes(la.value)) {
      // A tie-break is not proof: never a silent pass.
      if (la.confidence !== 'certain') add(finding('link-address-unconfirmed', 'warning', `the image is probably linked for ${linkedForText(la.value, family)}, as the ${board.name} bootloader needs, but the image does not prove it (${la.basis})`, checkText));
      return;
    }
    const flashBase = mem?.flashBase ?? (family === 'stm32' ? 0x08000000 : 0);
    const probably = la.confidence === 'certain' ? '' : 'probably ';
    if (la.value === flashBase && !want.includes(flashBase)) {
      add(
        finding(
          'no-bootloader-build',
          'error',
          `${probably}built with "No bootloader" (linked for ${hex(flashBase)}): flashed over DFU it would overwrite the ${board.name} stock bootloader, and the SD bootloader will not start it (it starts the application at ${wantText})`,
          rebuildHint(want, family, builtBy),
        ),
      );
    } else {
      add(finding('wrong-offset', 'error', `${probably}linked for ${linkedForText(la.value, family)}, but the ${board.name} bootloader starts the application at ${wantText}: the board would not boot it`, rebuildHint(want, family, builtBy)));
    }
    return;
  }
  if (la.candidates.length > 0) {
    const ok = la.candidates.filter((c) => want.includes(c));
    if (ok.length === 0) {
      add(finding('wrong-offset', 'error', `none of the possible link addresses (${la.candidates.map((a) => hex(a)).join(', ')}) is one the ${board.name} bootloader starts (${wantText})`, rebuildHint(want, family, builtBy)));
    } else {
      add(finding('link-address-unconfirmed', 'warning', `the image may be linked for ${wantText}, as the ${board.name} bootloader needs, but also for ${la.candidates.filter((c) => !want.includes(c)).map((a) => hex(a)).join(', ') || 'other addresses'}`, checkText));
    }
  }
}

export function checkBoard(report: FirmwareReport, board: Board, boardMem: McuMemory | undefined, img: Uint8Array, kind: 'cortex-m' | 'mks-scrambled' | 'chitu-cbd', builtBy: 'klipper' | 'marlin' | 'other', vt: ParsedVectorTable): void {
  const add = (f: Finding) => report.findings.push(f);
  // MCU.
  // Klipper spells some MCU constants in capitals ("HC32F460", src/hc32f460/Kconfig); the catalog in lower case.
  if (report.mcu && report.mcu.toLowerCase() !== board.mcu.toLowerCase()) {
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
  if (flashBytes !== undefined && boardMem && start !== null && inBoardFlash(start, boardMem, boardMem.family) && start >= boardMem.flashBase) {
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

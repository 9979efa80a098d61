/**
 * Files that wrap a firmware image: an ELF executable (out/klipper.elf), Intel HEX, a Chitu
 * .cbd, an MKS Robin scrambled .bin. Each is turned into the raw image the MCU runs, as the
 * standard tool would (`objcopy -O binary`, `objcopy -I ihex -O binary`, the vendor's
 * decoder), so inspection judges the bytes that end up in flash. ELF and HEX files also
 * state the address the image starts at, which beats any inference from the bytes.
 */
import { FwcardError } from '../errors.js';
import { chituDecode, isChituCbd } from './chitu.js';
import { EM_ARM, elfToBinary, isElf, parseElfFile } from './elf.js';
import { hexToBinary, looksLikeIntelHex, parseIntelHex } from './intel-hex.js';
import { isMksScrambled, mksRobinXor } from './mks-robin.js';
import type { ElfInfo, Finding, FirmwareKind, HexInfo } from './report.js';

export interface Unwrapped {
  /** The raw image (null when the file holds none we can read). */
  image: Uint8Array | null;
  kind: FirmwareKind;
  /** How the image itself is encoded for a bootloader (a converted ELF/HEX is plain). */
  imageKind: 'cortex-m' | 'mks-scrambled' | 'chitu-cbd';
  format: string;
  findings: Finding[];
  /** The address the file states the image starts at (ELF section, HEX record), if any. */
  statedAddress: { value: number; basis: string } | null;
  elf: ElfInfo | null;
  hex: HexInfo | null;
}

const finding = (id: string, severity: Finding['severity'], message: string, hint = ''): Finding => ({ id, severity, message, hint });
const hex8 = (n: number) => '0x' + n.toString(16).toUpperCase().padStart(8, '0');

function unwrapElf(bytes: Uint8Array): Unwrapped {
  const base: Unwrapped = { image: null, kind: 'elf', imageKind: 'cortex-m', format: 'ELF executable', findings: [], statedAddress: null, elf: null, hex: null };
  let elf;
  try {
    elf = parseElfFile(bytes);
  } catch (e) {
    if (!(e instanceof FwcardError)) throw e;
    base.findings.push(finding('elf-unreadable', 'error', e.message, e.hint ?? ''));
    return base;
  }
  let conv;
  try {
    conv = elfToBinary(bytes, elf);
  } catch (e) {
    if (!(e instanceof FwcardError)) throw e;
    base.findings.push(finding('elf-unreadable', 'error', e.message, e.hint ?? ''));
    return base;
  }
  const first = conv.sections[0] ?? null;
  base.elf = {
    machine: elf.machine,
    entry: elf.entry,
    loadAddress: conv.sections.length ? conv.address : null,
    vectorSection: first?.name ?? null,
    sections: conv.sections.map((s) => ({ name: s.name, address: s.lma, size: s.size })),
  };
  if (elf.machine !== EM_ARM) {
    base.findings.push(finding('elf-not-arm', 'error', `this ELF file is for machine type ${elf.machine}, not ARM: not firmware for these boards`, 'Build the firmware for the board’s MCU (Klipper: make menuconfig, then make).'));
    return base;
  }
  if (!first) {
    base.findings.push(finding('elf-empty', 'error', 'this ELF file has no loadable sections with contents', 'Rebuild (make) and use out/klipper.bin.'));
    return base;
  }
  base.image = conv.bytes;
  // The image starts with the first loaded section; its run address is the link address.
  base.statedAddress = { value: first.addr, basis: `ELF section ${first.name || '(unnamed)'} at ${hex8(first.addr)}` };
  base.findings.push(finding('elf-converted', 'info', `ELF executable: fwcard uses the image \`objcopy -O binary\` makes of it (${conv.bytes.length} bytes from ${hex8(conv.address)}, sections ${conv.sections.map((s) => s.name).join(', ')})`));
  return base;
}

function unwrapHex(bytes: Uint8Array): Unwrapped {
  const base: Unwrapped = { image: null, kind: 'intel-hex', imageKind: 'cortex-m', format: 'Intel HEX file', findings: [], statedAddress: null, elf: null, hex: null };
  let parsed;
  try {
    parsed = parseIntelHex(bytes);
  } catch (e) {
    if (!(e instanceof FwcardError)) throw e;
    base.findings.push(finding('hex-damaged', 'error', e.message, e.hint ?? ''));
    return base;
  }
  base.hex = { low: parsed.low, high: parsed.high, segments: parsed.segments.map((s) => ({ address: s.address, size: s.bytes.length })), startAddress: parsed.startAddress };
  if (parsed.low === null) {
    base.findings.push(finding('hex-empty', 'error', 'this Intel HEX file holds no data', 'Download the file again from its source.'));
    return base;
  }
  const bin = hexToBinary(parsed);
  base.image = bin.bytes;
  base.statedAddress = { value: bin.address, basis: `Intel HEX data from ${hex8(bin.address)}` };
  const gaps = parsed.segments.length > 1 ? `, ${parsed.segments.length} runs with gaps filled with 0` : '';
  base.findings.push(finding('hex-converted', 'info', `Intel HEX file: data at ${hex8(parsed.low)}–${hex8(parsed.high! - 1)}${gaps}; fwcard uses the image \`objcopy -I ihex -O binary\` makes of it (${bin.bytes.length} bytes)`));
  return base;
}

/** The image inside `bytes`, or null for files that wrap none (plain images come back as they are). */
export function unwrapFirmware(bytes: Uint8Array): Unwrapped | null {
  if (isElf(bytes)) return unwrapElf(bytes);
  if (looksLikeIntelHex(bytes)) return unwrapHex(bytes);
  if (isChituCbd(bytes)) {
    const d = chituDecode(bytes);
    const findings = [finding('chitu-encoded', 'info', 'Chitu-encoded update file (.cbd); decoded for inspection')];
    if (!d.checksumOk) findings.push(finding('chitu-checksum', 'error', 'the .cbd checksum does not match its contents (damaged or truncated file)', 'Encode the .bin again (fwcard does it for Chitu boards) or download the file again.'));
    return { image: d.image, kind: 'chitu-cbd', imageKind: 'chitu-cbd', format: 'Chitu .cbd update file', findings, statedAddress: null, elf: null, hex: null };
  }
  if (isMksScrambled(bytes)) {
    const findings = [finding('mks-scrambled', 'info', 'MKS Robin scrambled image (bytes 320-31039 XORed); unscrambled for inspection')];
    return { image: mksRobinXor(bytes), kind: 'mks-scrambled', imageKind: 'mks-scrambled', format: 'MKS Robin scrambled firmware', findings, statedAddress: null, elf: null, hex: null };
  }
  return null;
}

/**
 * The bytes to write for a firmware file: an ELF or Intel HEX file becomes the raw image
 * (as objcopy makes it); anything else, including a damaged ELF/HEX (whose inspection
 * reports the error), is returned unchanged.
 */
export function firmwareImage(bytes: Uint8Array): Uint8Array {
  if (!isElf(bytes) && !looksLikeIntelHex(bytes)) return bytes;
  const u = unwrapFirmware(bytes);
  return u?.image ?? bytes;
}

/**
 * ELF32 little-endian executables as GNU ld writes them for Cortex-M (Klipper's
 * out/klipper.elf), and the flat image `arm-none-eabi-objcopy -O binary` makes of one.
 *
 * objcopy's binary output (binutils bfd/binary.c, bfd/elf.c) works on sections, not segments:
 *  - a section is written when it is allocated and has contents (SHF_ALLOC and not
 *    SHT_NOBITS, so .bss and the stack are left out) and is not empty;
 *  - it is placed at its load address (LMA). ELF section headers hold only the run address
 *    (sh_addr, the VMA); BFD takes the LMA from the PT_LOAD program header that holds the
 *    section: p_paddr + (sh_offset - p_offset). That is how .data, linked to run in RAM,
 *    lands after .text in flash. A section in no PT_LOAD keeps LMA = VMA;
 *  - the file starts at the lowest such LMA; gaps between sections are filled with 0.
 */
import { FormatError } from '../errors.js';

export const EM_ARM = 40;
const PT_LOAD = 1;
const SHT_NOBITS = 8;
const SHF_ALLOC = 0x2;
const SHF_TLS = 0x400;

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  /** Run address (VMA). */
  addr: number;
  /** Load address, as BFD computes it. */
  lma: number;
  offset: number;
  size: number;
}

export interface ElfSegment {
  type: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfFile {
  machine: number;
  entry: number;
  sections: ElfSection[];
  segments: ElfSegment[];
}

export function isElf(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

function bad(message: string): FormatError {
  return new FormatError('elf-unreadable', `ELF file: ${message}`, { hint: 'Rebuild (make) and use out/klipper.bin, or give the complete klipper.elf.' });
}

/** Parse an ELF32 LE file's headers. Throws FormatError for ELF64, big-endian or cut files. */
export function parseElfFile(b: Uint8Array): ElfFile {
  if (!isElf(b) || b.length < 52) throw bad('too short');
  if (b[4] !== 1) throw bad('not a 32-bit ELF (ELF64 is not firmware for a Cortex-M board)');
  if (b[5] !== 1) throw bad('big-endian ELF is not firmware for a Cortex-M board');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number) => v.getUint16(o, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const machine = u16(18);
  const entry = u32(24);
  const phoff = u32(28);
  const shoff = u32(32);
  const phentsize = u16(42);
  const phnum = u16(44);
  const shentsize = u16(46);
  const shnum = u16(48);
  const shstrndx = u16(50);
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (o + 32 > b.length) throw bad('program headers run past the end of the file');
    segments.push({ type: u32(o), offset: u32(o + 4), vaddr: u32(o + 8), paddr: u32(o + 12), filesz: u32(o + 16), memsz: u32(o + 20) });
  }
  const raw: { type: number; flags: number; addr: number; offset: number; size: number }[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    if (o + 40 > b.length) throw bad('section headers run past the end of the file');
    nameOffs.push(u32(o));
    raw.push({ type: u32(o + 4), flags: u32(o + 8), addr: u32(o + 12), offset: u32(o + 16), size: u32(o + 20) });
  }
  const strtab = shstrndx < raw.length ? raw[shstrndx]! : null;
  const nameAt = (off: number): string => {
    if (!strtab) return '';
    let end = strtab.offset + off;
    while (end < b.length && end < strtab.offset + strtab.size && b[end] !== 0) end++;
    return Buffer.from(b.subarray(strtab.offset + off, end)).toString('latin1');
  };
  const sections = raw.map((s, i) => ({ ...s, name: nameAt(nameOffs[i]!), lma: loadAddress(s, segments) }));
  return { machine, entry, sections, segments };
}

/** BFD's section LMA (bfd/elf.c _bfd_elf_make_section_from_shdr). */
function loadAddress(s: { type: number; flags: number; addr: number; offset: number; size: number }, segments: ElfSegment[]): number {
  if ((s.flags & SHF_ALLOC) === 0) return s.addr;
  const loads = s.type !== SHT_NOBITS;
  let lma = s.addr;
  for (const p of segments) {
    if (p.type !== PT_LOAD || (s.flags & SHF_TLS) !== 0) continue;
    if (!inSegment(s, p)) continue;
    lma = loads ? (p.paddr + (s.offset - p.offset)) >>> 0 : (p.paddr + (s.addr - p.vaddr)) >>> 0;
    // A section that fits the segment's memory range settles it (zero-size sections at a boundary).
    if (s.addr >= p.vaddr && s.addr + s.size <= p.vaddr + p.memsz) break;
  }
  return lma;
}

/** ELF_SECTION_IN_SEGMENT (include/elf/internal.h), for allocated sections of a PT_LOAD. */
function inSegment(s: { type: number; addr: number; offset: number; size: number }, p: ElfSegment): boolean {
  const nobits = s.type === SHT_NOBITS;
  // File position: a section with contents lies within the segment's file bytes.
  if (!nobits) {
    if (s.offset < p.offset) return false;
    if (s.size > 0 ? s.offset - p.offset + s.size > p.filesz : s.offset - p.offset > p.filesz) return false;
  }
  // Memory position: within the segment's memory range (strictly inside for empty sections at the end).
  if (s.addr < p.vaddr) return false;
  if (s.size > 0 ? s.addr - p.vaddr + s.size > p.memsz : s.addr - p.vaddr >= p.memsz && p.memsz > 0) return false;
  return true;
}

/** The sections objcopy -O binary writes, lowest LMA first. */
export function loadedSections(elf: ElfFile): ElfSection[] {
  return elf.sections.filter((s) => (s.flags & SHF_ALLOC) !== 0 && s.type !== SHT_NOBITS && s.type !== 0 && s.size > 0).sort((a, b) => a.lma - b.lma);
}

/** `arm-none-eabi-objcopy -O binary` of an ELF file: the image and the address it starts at. */
export function elfToBinary(b: Uint8Array, parsed?: ElfFile): { address: number; bytes: Uint8Array; sections: ElfSection[] } {
  const elf = parsed ?? parseElfFile(b);
  const secs = loadedSections(elf);
  if (secs.length === 0) return { address: 0, bytes: new Uint8Array(0), sections: [] };
  const low = secs[0]!.lma;
  const high = Math.max(...secs.map((s) => s.lma + s.size));
  const out = new Uint8Array(high - low);
  for (const s of secs) {
    if (s.offset + s.size > b.length) throw bad(`section ${s.name || '?'} runs past the end of the file`);
    out.set(b.subarray(s.offset, s.offset + s.size), s.lma - low);
  }
  return { address: low, bytes: out, sections: secs };
}

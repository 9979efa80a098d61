/** The result of inspecting a firmware file (`fwcard inspect --json` prints it). */
import type { Remedy } from '../errors.js';
import type { McuFamily } from './mcu-memory.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable identifier, e.g. "wrong-offset", "mcu-mismatch", "elf-not-bin". */
  id: string;
  severity: Severity;
  message: string;
  /** What to do about it, in the user's words ("" when nothing needs doing). */
  hint: string;
  /** The command the hint names, as argv, when it names one. */
  remedy?: Remedy;
}

export type FirmwareKind = 'cortex-m' | 'mks-scrambled' | 'chitu-cbd' | 'elf' | 'intel-hex' | 'unknown';

export interface KlipperInterface {
  kind: 'usb' | 'serial' | 'can' | 'usb-can-bridge' | 'unknown';
  /** Reserved pins of the interface, e.g. ["PA11","PA12"] or ["PA10","PA9"]. */
  pins: string[];
  baud: number | null;
  canFrequency: number | null;
}

export interface KlipperInfo {
  version: string | null;
  mcu: string | null;
  clockFreq: number | null;
  buildVersions: string | null;
  interface: KlipperInterface;
  commands: number;
  responses: number;
  /** Offset of the compressed dictionary in the (decoded) image, and its compressed size. */
  dictionaryOffset: number;
  dictionaryBytes: number;
  /** The dictionary's `config` constants. */
  config: Record<string, unknown>;
}

export interface MarlinInfo {
  version: string;
  machine: string | null;
  /** Compile date as in the M115 string, if present. */
  built: string | null;
}

export interface VectorTableInfo {
  initialSp: number;
  reset: number;
  /** Number of 32-bit entries considered part of the table. */
  entries: number;
  /** Handler addresses (Thumb bit cleared), unique, sorted. */
  handlers: number[];
  /** Klipper ends its vector table with 0x55AA11EE. */
  klipperMarker: boolean;
}

export interface LinkAddressInfo {
  value: number | null;
  confidence: 'certain' | 'likely' | 'uncertain';
  candidates: number[];
  /** What decided it, in words. */
  basis: string;
}

export interface ElfInfo {
  machine: number;
  entry: number;
  /** Where `objcopy -O binary` output starts: the lowest load address of a section with contents. */
  loadAddress: number | null;
  /** The section holding the vector table (e.g. ".text"), null when none does. */
  vectorSection: string | null;
  /** Sections objcopy -O binary writes: name, load address, size. */
  sections: { name: string; address: number; size: number }[];
}

export interface HexInfo {
  /** Lowest and one-past-highest data address. */
  low: number | null;
  high: number | null;
  segments: { address: number; size: number }[];
  startAddress: number | null;
}

export interface FirmwareReport {
  kind: FirmwareKind;
  /** What the file is, in words: "ARM Cortex-M firmware", "PNG image", "ELF executable", … */
  format: string;
  /** Size of the file as given. */
  size: number;
  /** Size of the image after decoding (MKS/Chitu); equals `size` otherwise. */
  imageSize: number;
  /** The flash address the image was linked to run from, when determined exactly. */
  flashStart: number | null;
  /** Addresses still possible (one entry = flashStart; several = ambiguous). */
  candidates: number[];
  /** "0x08008000 (32 KiB bootloader)" */
  linkedFor: string | null;
  /**
   * Why: for each address tried, whether every vector-table handler lands inside the image
   * past the table, the share of flash pointers in literal pools that land inside the image
   * (null: too few pointers to judge), and whether the address itself is stored (VTOR).
   */
  linkEvidence: { base: number; handlersInside: boolean; pointerRatio: number | null; vtorLiteral: boolean }[];
  family: McuFamily | null;
  /** Klipper MCU identifier when the image says (Klipper dictionary), else null. */
  mcu: string | null;
  vectorTable: VectorTableInfo | null;
  klipper: KlipperInfo | null;
  marlin: MarlinInfo | null;
  /**
   * The link address with how sure it is: `certain` (the evidence leaves one address: vector
   * table, literal-pool pointers, the VTOR literal, or an ELF/HEX file that states it),
   * `likely` (several addresses fit the evidence and one is in the MCU's Kconfig menu: a
   * tie-break, not proof), `uncertain` (value null; `candidates` remain).
   */
  linkAddress: LinkAddressInfo;
  /** ELF facts when the file is an ELF executable. */
  elf: ElfInfo | null;
  /** Intel HEX facts when the file is Intel HEX. */
  hex: HexInfo | null;
  /** Board checked against, if any. */
  board: string | null;
  findings: Finding[];
}

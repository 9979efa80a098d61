/**
 * The board catalog's types. The catalog is data: one entry per board family, each fact
 * carrying its confidence and source keys (see docs/sources.md and shared research).
 */
export type Confidence = 'verified' | 'inferred' | 'unverified';

/** A fact with where it came from. `sources` are keys such as "K-BD" or "B-OCT-RM". */
export interface Sourced<T> {
  value: T;
  confidence: Confidence;
  sources: string[];
  note?: string;
}

/** How Klipper's flash-sdcard reaches the card (Klipper's board_defs.py vocabulary). */
export type KlipperBus =
  | { kind: 'spi'; bus: string }
  | { kind: 'swspi'; miso: string; mosi: string; sclk: string }
  | { kind: 'sdio'; bus: string };

/** What Klipper's scripts/spi_flash/board_defs.py records for a board. */
export interface KlipperDef {
  /**
   * The BOARD_DEFS key this definition is identical to (e.g. "monster8" for the
   * `robin_v3` alias). Lets an alias live on a separate catalog entry when the PC-side
   * facts differ, while keeping Klipper's meaning.
   */
  definition?: string;
  mcu: string;
  bus: KlipperBus;
  csPin?: string;
  /** Default in Klipper: "firmware.bin". */
  firmwarePath: string;
  /** Default in Klipper: "firmware.cur". */
  currentFirmwarePath: string;
  skipVerify: boolean;
  requiresUniqueFwName: boolean;
  conversion?: 'mks-robin' | 'chitu-v6';
}

export type FileSystemName = 'FAT12' | 'FAT16' | 'FAT32' | 'exFAT';

export interface CardRules {
  /** File systems the bootloader is reported to mount. */
  fileSystems: FileSystemName[];
  /** Largest card (bytes) reported to work, if any limit is known. */
  maxCardBytes?: number;
  /** Largest cluster size (bytes) the bootloader handles, if known. */
  maxClusterBytes?: number;
  /** Whether a partitionless (superfloppy) card is read. */
  superfloppy?: boolean;
  /** Whether a GPT card is read (false for every FatFs build with FF_LBA64 0). */
  gpt?: boolean;
}

/** A vendor's stock bootloader image: where to get it, and where it goes in flash. */
export interface BootloaderImage {
  /** A direct download link (GitHub's raw link on the repository's default branch), or a page. */
  url: string;
  /** The repository that publishes it ("owner/name" on GitHub) and the path inside; null when only a link is known. */
  repository: string | null;
  path: string | null;
  /** Where it is written: the start of flash. Null: the flash base of the board's MCU. */
  address: number | null;
  /** Intel HEX carries its own addresses and must be converted to a .bin for dfu-util/st-flash. */
  format: 'hex' | 'bin';
}

export interface Board {
  /** Catalog key, kebab-case; Klipper's name where Klipper has one. */
  name: string;
  /** Other names that resolve to this entry (Klipper aliases keep their spelling). */
  aliases: string[];
  vendor: string;
  /** Marketing names people search for. */
  models: string[];
  /** Klipper MCU identifier (e.g. "stm32f446xx", "lpc1768"). */
  mcu: string;
  /** Klipper flash-sdcard definition, when Klipper has one. */
  klipper?: KlipperDef;
  /** Application start addresses the stock bootloader jumps to. */
  appStart: Sourced<number[]>;
  /** Flash size in bytes. */
  flashBytes?: Sourced<number>;
  /** How the bootloader itself reads the card. */
  bootloaderBus: Sourced<'spi' | 'sdio' | 'unknown'>;
  /** Folder on the card holding the firmware ("" = root). */
  folder: Sourced<string>;
  /** File name the bootloader looks for (exact; glob "*.bin" for any-name boards). */
  firmwareName: Sourced<string>;
  /** Needs a new name each flash (Creality 4.2.x style flash-loop protection). */
  uniqueName: Sourced<boolean>;
  caseSensitive: Sourced<boolean | 'unknown'>;
  readsLongNames: Sourced<boolean | 'unknown'>;
  /** What the file becomes after a flash: a new name, "deleted", or "left". */
  afterFlash: Sourced<string>;
  card: Sourced<CardRules>;
  /**
   * Conversion the bootloader needs, for boards Klipper has no definition for (for boards
   * with one, `klipper.conversion` is authoritative and this repeats it with sources).
   */
  conversion?: Sourced<'none' | 'mks-robin' | 'chitu-v6'>;
  /** Where a user-supplied entry came from (`--boards-file`); absent for built-in entries. */
  origin?: string;
  /** The stock bootloader image, for `doctor` when it was erased. */
  bootloaderImage?: Sourced<BootloaderImage>;
  notes?: string[];
}

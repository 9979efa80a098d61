/** Firmware inspection and conversion: the API other layers use. */
export { inspectFirmware, type InspectOptions } from './inspect.js';
export { firmwareImage, unwrapFirmware } from './containers.js';
export { parseIntelHex, hexToBinary, type IntelHex, type HexSegment } from './intel-hex.js';
export { parseElfFile, elfToBinary, type ElfFile, type ElfSection } from './elf.js';
export { convertForBoard, boardConversion, type Conversion } from './convert.js';
export { extractKlipperDictionary, findKlipperDictionary, klipperInterface, type FoundDictionary } from './klipper-dictionary.js';
export { mksRobinXor, isMksScrambled } from './mks-robin.js';
export { chituEncode, chituDecode, isChituCbd } from './chitu.js';
export { mcuMemory, MCU_MEMORY, describeAppStart, type McuMemory, type McuFamily } from './mcu-memory.js';
export type { FirmwareReport, Finding, FirmwareKind, KlipperInfo, KlipperInterface, MarlinInfo, Severity, LinkAddressInfo, ElfInfo, HexInfo } from './report.js';

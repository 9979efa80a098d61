/**
 * The facts about a card a user is shown (flash-sdcard step 4) in a JSON-friendly shape.
 * Rendering to text is the CLI's job.
 */
import type { SdCardInfo } from './sd-host.js';

export interface SdCardFacts {
  bus: 'spi' | 'sdio';
  /** SDSC, SDHC, SDXC. */
  type: string;
  capacityBytes: number;
  sectorCount: number;
  writeProtected: boolean;
  specVersion: 1 | 2;
  manufacturerId: number;
  manufacturer: string | null;
  oemId: string;
  product: string;
  revision: string;
  /** 8 hex digits, as Klipper prints it. */
  serial: string;
  /** "YYYY-MM". */
  manufactured: string;
  crcEnabled: boolean;
}

export function cardFacts(info: SdCardInfo): SdCardFacts {
  const c = info.cid;
  return {
    bus: info.bus,
    type: info.capacityType,
    capacityBytes: info.capacityBytes,
    sectorCount: info.sectorCount,
    writeProtected: info.writeProtected,
    specVersion: info.specVersion,
    manufacturerId: c.manufacturerId,
    manufacturer: c.manufacturerName ?? null,
    oemId: c.oemId,
    product: c.productName.trim(),
    revision: c.productRevision,
    serial: c.serialNumber.toString(16).toUpperCase().padStart(8, '0'),
    manufactured: `${c.manufactureYear}-${String(c.manufactureMonth).padStart(2, '0')}`,
    crcEnabled: info.crcEnabled,
  };
}

/**
 * The end of identification, the same for both buses: the CID and CSD as the card sent them,
 * checked (CRC7, capacity type) and decoded into the facts the layers above use.
 */
import { decodeCid } from './cid.js';
import { decodeCsd } from './csd.js';
import { sdError } from './sd-errors.js';
import type { SdCardInfo } from './sd-host.js';

export interface IdentifiedCard {
  bus: SdCardInfo['bus'];
  specVersion: 1 | 2;
  highCapacity: boolean;
  crcEnabled: boolean;
  /** Relative card address (SDIO only). */
  rca?: number;
  cidRaw: Uint8Array;
  csdRaw: Uint8Array;
}

export function cardInfo(card: IdentifiedCard): SdCardInfo {
  const { cidRaw, csdRaw } = card;
  const cid = decodeCid(cidRaw);
  const csd = decodeCsd(csdRaw);
  if (!cid.crcOk) throw sdError('sd-register-crc', 'the CID register arrived with a bad CRC7', { cid: Array.from(cidRaw) });
  if (!csd.crcOk) throw sdError('sd-register-crc', 'the CSD register arrived with a bad CRC7', { csd: Array.from(csdRaw) });
  if (csd.capacityType === 'SDUC') throw sdError('sd-unsupported-card', 'SD Ultra Capacity (SDUC) cards are not supported', {});
  return {
    bus: card.bus,
    specVersion: card.specVersion,
    capacityType: csd.capacityType,
    highCapacity: card.highCapacity,
    capacityBytes: csd.capacityBytes,
    sectorCount: csd.sectorCount,
    writeProtected: csd.writeProtected,
    crcEnabled: card.crcEnabled,
    ...(card.rca === undefined ? {} : { rca: card.rca }),
    cid,
    csd,
    cidRaw,
    csdRaw,
  };
}

import { UsageError, IoError } from '../errors.js';

/** Throw before any I/O when a request falls outside the device or is not whole sectors. */
export function checkRange(name: string, sectorSize: number, sectorCount: number, lba: number, bytes: number): number {
  if (!Number.isSafeInteger(lba) || lba < 0) {
    throw new UsageError('bad-lba', `${name}: invalid sector number ${lba}`);
  }
  if (bytes % sectorSize !== 0) {
    throw new UsageError('unaligned-io', `${name}: ${bytes} bytes is not a whole number of ${sectorSize}-byte sectors`);
  }
  const count = bytes / sectorSize;
  if (lba + count > sectorCount) {
    throw new IoError('out-of-range', `${name}: sectors ${lba}..${lba + count - 1} lie past the end (${sectorCount} sectors)`, {
      // 0 sectors is no card at all (an empty reader), not a card to re-create.
      hint: sectorCount === 0 ? 'The device reports 0 sectors: there is no card in it. Insert the card and try again.' : 'The card is smaller than its partition table or file system claims. Re-create it with `fwcard prepare`.',
      details: { lba, count, sectorCount },
    });
  }
  return count;
}

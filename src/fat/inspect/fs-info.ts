/** The FAT32 FSInfo sector (Microsoft FAT specification): free-cluster hints that `check` judges. */
export interface FsInfo {
  signaturesOk: boolean;
  freeCount: number;
  nextFree: number;
  problems: string[];
}

/** FSInfo sector (FAT32): three signatures and two hints that readers must range-check. */
export function parseFsInfo(b: Uint8Array, clusterCount: number): FsInfo {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const problems: string[] = [];
  const lead = dv.getUint32(0, true) === 0x41615252;
  const struc = dv.getUint32(484, true) === 0x61417272;
  const trail = dv.getUint32(508, true) === 0xaa550000;
  if (!lead || !struc || !trail) problems.push('FSInfo signatures are wrong');
  const freeCount = dv.getUint32(488, true);
  const nextFree = dv.getUint32(492, true);
  if (freeCount !== 0xffffffff && freeCount > clusterCount) problems.push(`FSInfo free count ${freeCount} exceeds the ${clusterCount} clusters`);
  if (nextFree !== 0xffffffff && (nextFree < 2 || nextFree > clusterCount + 1)) problems.push(`FSInfo next-free hint ${nextFree} is outside the volume`);
  return { signaturesOk: lead && struc && trail, freeCount, nextFree, problems };
}

import type { BlockDevice } from '../../disk/block-device.js';
import { FatInspector, type OtherBootSector } from '../../fat/inspect/index.js';
import { FAT12_MAX_CLUSTERS, FAT16_MAX_CLUSTERS } from '../../fat/inspect/index.js';
import { formatBytes } from '../../util/size.js';
import { fsFindings } from './card.js';
import { prepareCommand, reformatHint, type HintContext } from './hints.js';
import { unknownRule } from './rules.js';
import type { CheckFinding, VolumeFacts } from './types.js';

export interface VolumeAnalysis {
  volume: VolumeFacts;
  findings: CheckFinding[];
  /** Set when the volume is FAT and sound enough to read files from. */
  inspector: FatInspector | null;
}

/** The SD Association's boundary unit (sectors) for a card of `bytes`, as its SD Formatter applies it. */
function boundaryUnit(bytes: number): number {
  const MiB = 1024 * 1024;
  if (bytes > 2 * 1024 * MiB) return 8192;
  if (bytes <= 8 * MiB) return 16;
  if (bytes <= 64 * MiB) return 32;
  if (bytes <= 256 * MiB) return 64;
  return 128;
}

/** Boot sector, FSInfo, backup boot sector and dirty bits of the volume a bootloader reads. */
export async function analyseVolume(dev: BlockDevice, at: { start: number; sectors: number; slot: number | null }, ctx: HintContext): Promise<VolumeAnalysis> {
  const rules = ctx.rules;
  const findings: CheckFinding[] = [];
  const add = (f: CheckFinding): void => {
    findings.push(f);
  };
  const opened = await FatInspector.open(dev, at.start, at.sectors);
  const base = { slot: at.slot, start: at.start, sectors: at.sectors };
  if (!(opened instanceof FatInspector)) {
    const bs = opened as OtherBootSector;
    const volume: VolumeFacts = { ...base, fs: bs.kind, bytesPerSector: bs.bytesPerSector, clusterBytes: bs.clusterBytes, clusterCount: bs.clusterCount, totalSectors: bs.totalSectors };
    const where = at.slot === null ? 'the card (no partition table)' : 'the first partition';
    if (bs.kind === 'unknown' && bs.bytesPerSector !== null && bs.bytesPerSector !== dev.sectorSize) {
      // A FAT volume made with 4K logical sectors (mkfs.fat -S 4096) on a 512-byte-sector card.
      return { volume: { ...volume, fs: 'unknown' }, inspector: null, findings: [{ id: 'fat-sector-size', severity: 'error', message: `${where} is a FAT volume with ${bs.bytesPerSector}-byte logical sectors; the card has ${dev.sectorSize}-byte sectors and bootloaders (FatFs built for 512) read only 512`, hint: reformatHint(ctx) }] };
    }
    const f = fsFindings(bs.kind, ctx, where);
    if (bs.kind === 'unknown' && bs.problems.length) f[0]!.message += `: ${bs.problems.join('; ')}`;
    return { volume, findings: f, inspector: null };
  }
  const b = opened.boot;
  const facts = await opened.facts();
  const volume: VolumeFacts = {
    ...base,
    fs: b.fatType,
    bytesPerSector: b.bytesPerSector,
    clusterBytes: b.clusterBytes,
    clusterCount: b.clusterCount,
    totalSectors: b.totalSectors,
    reservedSectors: b.reservedSectors,
    fatCount: b.fatCount,
    sectorsPerFat: b.sectorsPerFat,
    rootEntries: b.rootEntries,
    dataStart: b.dataStart,
    label: b.label,
    typeString: b.typeString,
    oemName: b.oemName.trimEnd(),
    dirty: b.dirtyFlag || (facts.flags ? !facts.flags.clean : false),
    ioErrorBit: facts.flags?.ioError ?? false,
    fsInfo: facts.fsInfo ? { freeCount: facts.fsInfo.freeCount, nextFree: facts.fsInfo.nextFree, valid: facts.fsInfo.problems.length === 0 } : null,
    backupBootSector: facts.backupBoot ? { sector: facts.backupBoot.sector, matches: facts.backupBoot.matches } : null,
  };

  if (b.problems.length) {
    add({ id: 'boot-sector-invalid', severity: 'error', message: `the ${b.fatType} boot sector is inconsistent: ${b.problems.join('; ')}`, hint: reformatHint(ctx) });
  }
  // File system type against the board.
  if (!rules.fileSystems.includes(b.fatType)) {
    if (rules.board) {
      add({ id: 'fat-type-unsupported', severity: 'error', basis: 'board', message: `the volume is ${b.fatType}; ${rules.boardName}'s bootloader reads ${rules.fileSystems.join('/')}${rules.cardConfidence ? ` (catalog: ${rules.cardConfidence.split(':')[0]})` : ''}`, hint: reformatHint(ctx) });
    } else {
      add({ id: 'fat-type-unsupported', severity: 'warning', basis: 'generic', message: `the volume is ${b.fatType}; most SD bootloaders expect FAT16 or FAT32`, hint: reformatHint(ctx) });
    }
  }
  // Cluster size.
  const mc = rules.maxClusterBytes;
  if (b.clusterBytes > mc.value) {
    if (mc.known) add({ id: 'cluster-too-large', severity: 'error', basis: 'board', message: `${formatBytes(b.clusterBytes)} clusters; ${rules.boardName}'s bootloader is reported to need ${formatBytes(mc.value)} or smaller${rules.cardConfidence ? ` (catalog: ${rules.cardConfidence.split(':')[0]})` : ''}`, hint: reformatHint(ctx) });
    else add({ id: 'cluster-too-large', severity: 'warning', basis: 'generic', message: `${formatBytes(b.clusterBytes)} clusters: larger than the 32 KiB the FAT specification calls broadly compatible (${unknownRule(rules, 'a cluster size limit')})`, hint: reformatHint(ctx, 'If the board ignores the card, use 32 KiB clusters or smaller.') });
  }
  // Readers that count clusters a little differently disagree on the FAT type near the limits.
  const near = [FAT12_MAX_CLUSTERS + 1, FAT16_MAX_CLUSTERS + 1].find((lim) => Math.abs(b.clusterCount - lim) <= 16);
  if (near !== undefined) {
    add({ id: 'fat-type-ambiguous', severity: 'warning', message: `${b.clusterCount} clusters is within 16 of the ${near === FAT12_MAX_CLUSTERS + 1 ? 'FAT12/FAT16' : 'FAT16/FAT32'} limit (${near}); readers that count differently see another FAT type`, hint: reformatHint(ctx) });
  }
  // The type string is informational per the spec, but old FatFs releases find the volume by it.
  if (b.typeString !== null && b.typeString.startsWith('FAT') && b.typeString !== b.fatType && !(b.fatType !== 'FAT32' && b.typeString === 'FAT')) {
    add({ id: 'fat-type-label-mismatch', severity: 'warning', message: `the boot sector's type string says "${b.typeString}" but the cluster count (${b.clusterCount}) makes it ${b.fatType}; readers that trust the string misread the volume`, hint: reformatHint(ctx) });
  }
  if (!b.fatFsSignature) {
    add({ id: 'fat-signature-missing', severity: 'warning', message: `the boot sector has no "FAT" type string (offset 54) nor "FAT32" (offset 82); older FatFs releases, common in stock bootloaders, do not recognise the volume without it`, hint: reformatHint(ctx) });
  }
  // Volume size vs. partition size.
  if (b.totalSectors > at.sectors) {
    add({ id: 'volume-exceeds-partition', severity: 'error', message: `the ${b.fatType} volume claims ${b.totalSectors} sectors but its ${at.slot === null ? 'card' : 'partition'} has ${at.sectors}: files near the end lie outside it`, hint: reformatHint(ctx) });
  } else if (at.sectors - b.totalSectors > Math.max(2048, at.sectors / 100)) {
    add({ id: 'volume-smaller-than-partition', severity: 'info', message: `the volume uses ${formatBytes(b.totalSectors * 512)} of its ${formatBytes(at.sectors * 512)} partition`, hint: '' });
  }
  // SD spec: the data area (cluster 2) starts on the card's boundary unit, so no cluster
  // straddles two flash erase blocks; FAT32 on SDHC/SDXC also starts its partition on one.
  const bu = boundaryUnit(dev.sectorCount * dev.sectorSize);
  const dataAbs = at.start + b.dataStart;
  if (dataAbs % bu !== 0 || (b.fatType === 'FAT32' && bu === 8192 && at.start % bu !== 0)) {
    add({ id: 'not-sd-aligned', severity: 'info', message: `${dataAbs % bu !== 0 ? `the data area starts at sector ${dataAbs}` : `the partition starts at sector ${at.start}`}, not on the card's ${formatBytes(bu * 512)} boundary unit (SD Association layout): slower writes, no effect on flashing`, hint: '' });
  }
  if (b.fatCount === 1) add({ id: 'single-fat', severity: 'info', message: 'the volume has one FAT (no backup copy)', hint: '' });
  if (volume.dirty) {
    add({ id: 'volume-dirty', severity: 'warning', message: 'the volume is marked dirty: it was not cleanly unmounted, so the last write may be incomplete', hint: `Eject the card safely from the computer that wrote it; if the firmware was written then, write it again: \`${prepareCommand(ctx, { noFormat: true })}\`.` });
  }
  if (volume.ioErrorBit) add({ id: 'volume-io-errors', severity: 'warning', message: 'the volume records a disk I/O error (FAT[1] hard-error bit)', hint: 'Copy what you need off the card and try another card.' });
  if (facts.fsInfo && facts.fsInfo.problems.length) add({ id: 'fsinfo-invalid', severity: 'warning', message: `FSInfo: ${facts.fsInfo.problems.join('; ')}`, hint: 'Harmless for reading (FatFs ignores bad hints), but it means a careless writer touched the card; `fsck.fat -a` repairs it.' });
  if (facts.backupBoot && !facts.backupBoot.matches) {
    if (facts.backupBoot.differingBytes.length) add({ id: 'backup-boot-sector-mismatch', severity: 'warning', message: `the backup boot sector (sector ${facts.backupBoot.sector}) differs from the boot sector (bytes ${facts.backupBoot.differingBytes.slice(0, 6).join(', ')}${facts.backupBoot.differingBytes.length > 6 ? ', …' : ''})`, hint: '`fsck.fat -a` re-syncs it; or re-create the card.' });
    else add({ id: 'backup-boot-sector-missing', severity: 'info', message: `no usable backup boot sector (BPB_BkBootSec = ${facts.backupBoot.sector})`, hint: '' });
  }
  const inspectable = !b.problems.some((p) => /FAT holds|root directory cluster|active FAT/.test(p));
  return { volume, findings, inspector: inspectable ? opened : null };
}

import type { BlockDevice } from '../../disk/block-device.js';
import { cardKind } from '../../fat/layout.js';
import { parseMbr, partitionTypeName } from '../../partition/mbr.js';
import { readVolumeContent } from '../../partition/content.js';
import { probeCard, type FsKind } from '../../partition/probe.js';
import { formatGB } from '../../util/size.js';
import { advice } from '../../errors.js';
import { pcDevice, prepareRemedy, reformatHint, tool, type HintContext } from './hints.js';
import { unknownRule } from './rules.js';
import type { CardFacts, CheckFinding, PartitionFacts } from './types.js';

const EXTENDED = new Set([0x05, 0x0f, 0x85]);
const FAT_TYPES: Record<string, number[]> = {
  FAT12: [0x01],
  FAT16: [0x04, 0x06, 0x0e],
  FAT32: [0x0b, 0x0c],
};
/** Hidden variants (0x1x) of the FAT types: Windows and many readers skip them. */
const HIDDEN_FAT = new Set([0x11, 0x14, 0x16, 0x1b, 0x1c, 0x1e]);
const isFat = (fs: FsKind): boolean => fs === 'FAT12' || fs === 'FAT16' || fs === 'FAT32';

export interface CardAnalysis {
  card: CardFacts;
  findings: CheckFinding[];
  /** The volume to inspect further: the one a bootloader reads, when it is FAT. */
  fatVolume: { start: number; sectors: number; slot: number | null } | null;
}

/** Partition table, partitions, and which volume a stock bootloader would read. */
export async function analyseCard(dev: BlockDevice, ctx: HintContext): Promise<CardAnalysis> {
  const rules = ctx.rules;
  const findings: CheckFinding[] = [];
  const add = (f: CheckFinding): void => {
    findings.push(f);
  };
  const sizeBytes = dev.sectorCount * dev.sectorSize;
  const card: CardFacts = {
    device: dev.name,
    sizeBytes,
    sectorSize: dev.sectorSize,
    sectorCount: dev.sectorCount,
    kind: cardKind(sizeBytes),
    table: 'none',
    hybridMbr: false,
    partitions: [],
    content: null,
    volume: null,
  };
  const reformat = (why = '') => reformatHint(ctx, why);

  // Capacity and sector size.
  if (dev.sectorSize !== 512) {
    add({ id: 'sector-size', severity: 'error', message: `the card reports ${dev.sectorSize}-byte sectors; SD cards and printer bootloaders use 512`, hint: 'Use a real microSD card in a plain USB card reader (4K-sector USB drives are not SD cards).' });
  }
  // Card sizes in GB as sold (10^9 bytes, what the label says): the catalog's limits come from
  // advice like "no card larger than 32 GB". A card over 32 GB is SDXC and ships exFAT, which
  // the file-system findings below report; FAT32 on it is read by every board we know of, so the
  // size alone is said only where the board has a known limit.
  const maxCard = rules.maxCardBytes;
  if (maxCard.known && maxCard.value !== null && sizeBytes > maxCard.value) {
    add({ id: 'card-too-large', severity: 'warning', basis: 'board', message: `the card holds ${formatGB(sizeBytes)}; ${rules.boardName} is reported to work with cards up to ${formatGB(maxCard.value)}${rules.cardConfidence ? ' (catalog: ' + rules.cardConfidence.split(':')[0] + ')' : ''} (GB = 10^9 bytes, as on a card's label)`, ...advice`Use a card of ${formatGB(maxCard.value)} or smaller if this one is not taken; ${prepareRemedy(ctx, { extra: ['--partition-size', `${Math.min(8, Math.floor(maxCard.value / 1024 ** 3))}G`] })} makes a small volume on it.` });
  }

  const probe = await probeCard(dev, { details: true, countFat: !ctx.inBoard });
  card.table = probe.table;
  card.content = probe.whole;
  const s0 = await dev.read(0, 1);
  const mbr = parseMbr(s0);

  if (probe.table === 'none') {
    const fs = probe.superfloppyFs ?? 'unknown';
    if (!isFat(fs)) {
      return { card: { ...card, volume: { slot: null, start: 0, sectors: dev.sectorCount, fs, bytesPerSector: null, clusterBytes: null, clusterCount: null, totalSectors: null } }, findings: [...findings, ...fsFindings(fs, ctx, 'the card (no partition table)')], fatVolume: null };
    }
    const sf = rules.superfloppy;
    if (sf.known && sf.value === false) {
      add({ id: 'superfloppy', severity: 'error', basis: 'board', message: `no partition table: the ${fs} volume starts at sector 0 (a "superfloppy"), which ${rules.boardName}'s bootloader does not read`, ...reformat('It needs an MBR partition table.') });
    } else if (!sf.known) {
      add({ id: 'superfloppy', severity: 'warning', basis: 'generic', message: `no partition table: the ${fs} volume starts at sector 0 (a "superfloppy"); FatFs-based bootloaders read that, others expect an MBR (${unknownRule(rules, 'whether a superfloppy is read')})`, ...reformat('If the board ignores the card, give it an MBR partition table.') });
    } else {
      add({ id: 'superfloppy', severity: 'info', basis: 'board', message: `no partition table: the ${fs} volume starts at sector 0 (a "superfloppy"); ${rules.boardName}'s bootloader reads that`, hint: '' });
    }
    return { card, findings, fatVolume: { start: 0, sectors: dev.sectorCount, slot: null } };
  }

  if (probe.table === 'gpt') {
    card.partitions = probe.partitions.map((p) => ({ slot: p.index, start: p.start, sectors: p.sectors, type: null, typeName: p.typeName, name: p.name, fs: p.fs, label: p.label, logical: false, bootable: false, content: p.content }));
    const nonGpt = mbr.entries.filter((e) => e.type !== 0xee);
    const slot0 = mbr.entries.find((e) => e.index === 0);
    const hybrid = nonGpt.length > 0;
    card.hybridMbr = hybrid;
    const hdr = dev.sectorCount > 1 ? await dev.read(1, 1) : new Uint8Array(512);
    const hasHeader = String.fromCharCode(...hdr.subarray(0, 8)) === 'EFI PART';
    if (hybrid && slot0 && slot0.type !== 0xee) {
      // A hybrid MBR whose first slot is a real partition: MBR-only readers use that slot.
      const inside = await readVolumeContent(dev, slot0.startLba, slot0.sectorCount, { details: true, countFat: !ctx.inBoard });
      card.partitions = mbr.entries.map((e) => ({ slot: e.index, start: e.startLba, sectors: e.sectorCount, type: e.type, typeName: partitionTypeName(e.type), fs: e.index === 0 ? inside.fs : 'unknown', label: e.index === 0 ? inside.label : null, logical: false, bootable: e.bootable, content: e.index === 0 ? inside : null }));
      add({ id: 'hybrid-mbr', severity: 'warning', message: 'hybrid MBR: a GPT card whose MBR also lists partitions; bootloaders read the MBR, but any tool that rewrites the GPT can break it', ...reformat('Give the card a plain MBR.') });
      return finishMbr(dev, ctx, card, findings, slot0.index, slot0.startLba, slot0.sectorCount, slot0.type, inside.fs);
    }
    const fatInside = card.partitions.find((p) => isFat(p.fs));
    const gptRule = rules.gpt;
    if (gptRule.known && gptRule.value) {
      add({ id: 'gpt-partition-table', severity: 'info', basis: 'board', message: `GPT partition table${hasHeader ? '' : ' (protective MBR, but no "EFI PART" header)'}; ${rules.boardName}'s bootloader reads GPT`, hint: '' });
      if (fatInside) return { card, findings, fatVolume: { start: fatInside.start, sectors: fatInside.sectors, slot: fatInside.slot } };
      return { card, findings: [...findings, ...fsFindings(card.partitions[0]?.fs ?? 'empty', ctx, 'the first GPT partition')], fatVolume: null };
    }
    add({
      id: 'gpt-partition-table',
      severity: 'error',
      basis: gptRule.known ? 'board' : 'generic',
      message: `GPT partition table${hasHeader ? '' : ' (protective MBR type 0xEE, no valid "EFI PART" header)'}${fatInside ? ` with ${fatInside.fs} inside` : ''}: stock SD bootloaders read only MBR cards${gptRule.known ? '' : ` (${unknownRule(rules, 'whether GPT is read')})`}`,
      ...reformat('It needs an MBR partition table.'),
    });
    return { card, findings, fatVolume: null };
  }

  // MBR.
  card.partitions = probe.partitions.map((p) => ({ slot: p.index, start: p.start, sectors: p.sectors, type: p.type, typeName: p.typeName, fs: EXTENDED.has(p.type) ? 'unknown' : p.fs, label: EXTENDED.has(p.type) ? null : p.label, logical: false, bootable: mbr.entries.find((e) => e.index === p.index)?.bootable ?? false, content: p.content }));
  card.partitions.push(...probe.logical.map((p) => ({ slot: p.index, start: p.start, sectors: p.sectors, type: p.type, typeName: p.typeName, fs: p.fs, label: p.label, logical: true, bootable: false, content: p.content })));
  if (card.partitions.length === 0) {
    add({ id: 'no-partitions', severity: 'error', message: 'the MBR lists no partitions: the card has no volume to read', ...reformat() });
    return { card, findings, fatVolume: null };
  }
  const slot0 = card.partitions.find((p) => p.slot === 0);
  const fatElsewhere = card.partitions.find((p) => p.slot !== 0 && isFat(p.fs));
  if (!slot0) {
    add({ id: 'fat-not-first-partition', severity: 'error', message: `the first MBR slot is empty${fatElsewhere ? `; the ${fatElsewhere.fs} volume is in ${fatElsewhere.logical ? 'a logical partition' : `slot ${fatElsewhere.slot + 1}`}` : ''}: bootloaders read only the first primary partition`, ...reformat() });
    return { card, findings, fatVolume: null };
  }
  if (EXTENDED.has(slot0.type ?? 0)) {
    add({ id: 'first-partition-extended', severity: 'error', message: `the first partition is an extended partition${fatElsewhere?.logical ? ` and the ${fatElsewhere.fs} volume is a logical partition inside it` : ''}: bootloaders read only a primary partition`, ...reformat('The FAT volume must be the first primary partition.') });
    return { card, findings, fatVolume: null };
  }
  return finishMbr(dev, ctx, card, findings, 0, slot0.start, slot0.sectors, slot0.type ?? 0, slot0.fs);
}

function finishMbr(dev: BlockDevice, ctx: HintContext, card: CardFacts, findings: CheckFinding[], slot: number, start: number, sectors: number, type: number, fs: FsKind): CardAnalysis {
  const add = (f: CheckFinding): void => {
    findings.push(f);
  };
  const others = card.partitions.filter((p) => p.slot !== slot && p.type !== 0xee);
  const fatElsewhere = others.find((p) => isFat(p.fs));
  if (start + sectors > dev.sectorCount || start === 0) {
    add({ id: 'partition-outside-card', severity: 'error', message: start === 0 ? 'the first partition starts at sector 0, on top of the partition table' : `the first partition (sectors ${start}…${start + sectors - 1}) runs past the end of the card (${dev.sectorCount} sectors): a fake-capacity card, or a table copied from a larger card`, ...reformatHint(ctx) });
    return { card, findings, fatVolume: null };
  }
  if (!isFat(fs)) {
    findings.push(...fsFindings(fs, ctx, 'the first partition', fatElsewhere ? `${fatElsewhere.fs} is in ${fatElsewhere.logical ? 'a logical partition' : `partition ${fatElsewhere.slot + 1}`}, which bootloaders do not read` : ''));
    if (fatElsewhere) add({ id: 'fat-not-first-partition', severity: 'error', message: `the ${fatElsewhere.fs} volume is ${fatElsewhere.logical ? 'a logical partition' : `partition ${fatElsewhere.slot + 1}`}; bootloaders read only the first primary partition (${fs === 'empty' ? 'blank' : fs} here)`, ...reformatHint(ctx) });
    return { card, findings, fatVolume: null };
  }
  if (others.length) {
    add({ id: 'several-partitions', severity: 'warning', message: `the card has ${others.length + 1} partitions; bootloaders read only the first, and some refuse cards with more`, ...reformatHint(ctx, 'If the board ignores the card, make it a single partition.') });
  }
  // Type byte vs. what is inside: FatFs ignores it, some bootloaders and Windows do not.
  const fitting = FAT_TYPES[fs] ?? [];
  const anyFat = [0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e];
  if (HIDDEN_FAT.has(type)) {
    add({ id: 'partition-type-mismatch', severity: 'warning', message: `partition type 0x${type.toString(16)} is a hidden FAT type; some readers skip hidden partitions`, ...advice`Unhide it (keeps the files): ${setPartType(ctx, slot, type & 0x0f)}, or re-create the card: ${prepareRemedy(ctx)}` });
  } else if (!anyFat.includes(type)) {
    add({ id: 'partition-type-mismatch', severity: 'warning', message: `partition type 0x${type.toString(16).padStart(2, '0')} (${partitionTypeName(type)}) holds a ${fs} volume; bootloaders that check the type byte skip it`, ...advice`Set the type (keeps the files): ${setPartType(ctx, slot, fitting[fitting.length - 1] ?? 0x0c)}, or re-create the card: ${prepareRemedy(ctx)}` });
  } else if (!fitting.includes(type)) {
    add({ id: 'partition-type-inexact', severity: 'info', message: `partition type 0x${type.toString(16).padStart(2, '0')} (${partitionTypeName(type)}) holds a ${fs} volume; FAT readers accept that, strict ones may not`, hint: '' });
  }
  return { card, findings, fatVolume: { start, sectors, slot } };
}

/** `sfdisk --part-type <card> <n> <type>`: change the type byte of MBR slot `slot` (0-3), keeping the files. */
const setPartType = (ctx: HintContext, slot: number, type: number) => tool(['sfdisk', '--part-type', pcDevice(ctx), String(slot + 1), type.toString(16)], 'sets the partition type byte; the files stay');

/** Findings for a volume that is not FAT (or not there). */
export function fsFindings(fs: FsKind, ctx: HintContext, where: string, extra = ''): CheckFinding[] {
  const rules = ctx.rules;
  const tail = extra ? `; ${extra}` : '';
  const reformatRemedy = prepareRemedy(ctx);
  switch (fs) {
    case 'exFAT':
      if (rules.fileSystems.includes('exFAT')) return [{ id: 'filesystem-exfat-not-inspected', severity: 'warning', basis: 'board', message: `${where} is exFAT, which ${rules.boardName} reads, but check cannot look inside exFAT`, hint: '' }];
      return [{ id: 'filesystem-exfat', severity: 'error', basis: rules.board ? 'board' : 'generic', message: `${where} is exFAT (what SDXC cards ship with): stock bootloaders read only FAT${tail}`, ...advice`Re-create it as FAT32 (this erases it): ${reformatRemedy}` }];
    case 'NTFS':
      return [{ id: 'filesystem-ntfs', severity: 'error', message: `${where} is NTFS: bootloaders read only FAT${tail}`, ...advice`Re-create it as FAT32 (this erases it): ${reformatRemedy}` }];
    case 'empty':
      return [{ id: 'filesystem-missing', severity: 'error', message: `${where} is blank: there is no file system${tail}`, ...advice`Format it (this erases it): ${reformatRemedy}` }];
    default:
      return [{ id: 'filesystem-unrecognized', severity: 'error', message: `${where} holds ${fs === 'unknown' ? 'no file system a bootloader recognises' : `${fs === 'ISO9660' ? 'an ISO 9660 image' : fs}, which SD bootloaders do not read (they read FAT)`}${tail}`, ...advice`Re-create it (this erases it): ${reformatRemedy}` }];
  }
}

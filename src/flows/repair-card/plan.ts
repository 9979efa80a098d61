import type { Board } from '../../boards/types.js';
import type { BlockDevice } from '../../disk/block-device.js';
import type { Layout } from '../../fat/layout.js';
import { probeCard, type CardProbe } from '../../partition/probe.js';
import { checkCard } from '../check.js';
import { rulesFor } from '../check/rules.js';
import { planRepairLayout, type SectorRange } from './layout.js';
import { repairWrites, writeVolume, type RepairWrite } from './writes.js';

/**
 * Deciding a repair of the card in a board: whether its bootloader can read it (the same
 * judgement as `fwcard check --board`), what is on it now, and what the repair writes.
 *
 * Why the repair is safe when cut off at any point. What a reader makes of a card hangs on a few
 * sectors: sector 0 (an MBR, a GPT's protective MBR, or the boot sector of a volume without a
 * table), a GPT's header at sector 1 and its entries, and each volume's boot region (its first
 * sectors: FAT's boot sector, FSInfo and backup at 6; exFAT's main and backup boot regions, sectors
 * 0–23; NTFS's boot sector, with its backup in the volume's last sector). Those are `keep`.
 * 1. The new volume's sectors (boot sector to the end of the root directory) are placed clear of
 *    every `keep` range (layout.ts moves the volume a boundary unit at a time), and written first:
 *    FATs and root, then the boot sector. Nothing the card's current table points to changes, so
 *    until step 2 every reader sees the card as it was (its old file system's data may be partly
 *    overwritten where the new volume lies: that is the loss the user agreed to, and no structure a
 *    reader starts from is touched).
 * 2. The MBR, one sector: a card reads as old before it lands and as the complete new volume
 *    after. This also turns a GPT card's protective MBR (type 0xEE) into a plain MBR, and a table-
 *    less exFAT/NTFS card's boot sector at 0 into a partition table.
 * 3. A GPT's primary and backup headers (sectors 1 and the last) are zeroed last. Before that, the
 *    card has a plain MBR and a stale GPT header: MBR readers (bootloaders, FatFs, our probe) and
 *    Linux (which trusts a GPT only behind a protective MBR) see the new volume; gdisk would ask
 *    which table to believe. So the headers go, after the MBR, never before it (without its header a
 *    protective MBR lists nothing: the card would read as neither old nor new).
 * Each step's writes are recorded on the host first (record.ts), so a re-run completes the rest.
 */

/** Check findings that mean the board's bootloader cannot read the card; a repair writes a new card. */
export const UNREADABLE_FINDINGS = new Set([
  'superfloppy', 'gpt-partition-table', 'no-partitions', 'fat-not-first-partition', 'first-partition-extended', 'partition-outside-card',
  'filesystem-exfat', 'filesystem-ntfs', 'filesystem-missing', 'filesystem-unrecognized', 'fat-sector-size', 'boot-sector-invalid',
  'fat-type-unsupported', 'cluster-too-large', 'volume-exceeds-partition',
]);

export interface RepairReason {
  id: string;
  message: string;
}

export interface RepairPlan {
  /** The bootloader cannot read the card: the repair is needed. */
  needed: boolean;
  /** The check's findings that make it so (empty: the card is readable and is not touched). */
  reasons: RepairReason[];
  /** What is on the card now, with the root files of readable volumes: all of it is lost. */
  before: CardProbe;
  card: { sectors: number; bytes: number };
  /** The new volume (null when no repair is needed). */
  layout: Layout | null;
  /** The card's space the new volume leaves unused; `fwcard prepare` in a card reader reclaims it. */
  unusedBytes: number;
  /** Sectors whose content decides what the card reads as now (see above). */
  keep: SectorRange[];
  writes: RepairWrite[];
  bytesWritten: number;
}

const REPAIR_LABEL = 'FIRMWARE';

/** Judge the card for `board` and plan its repair; reads a few dozen KiB, writes nothing. */
export async function planRepair(device: BlockDevice, board: Board, o: { now?: Date; volumeId?: number } = {}): Promise<RepairPlan> {
  // The check and the probe read many of the same sectors; over a serial link each read costs.
  const dev = readCache(device);
  const report = await checkCard(dev, { board });
  const reasons = report.findings.filter((f) => f.severity === 'error' && UNREADABLE_FINDINGS.has(f.id)).map((f) => ({ id: f.id, message: f.message }));
  const before = await probeCard(dev, { details: true });
  const card = { sectors: dev.sectorCount, bytes: dev.sectorCount * dev.sectorSize };
  const keep = keepRanges(before, dev.sectorCount, await hasGptHeader(dev));
  if (!reasons.length) return { needed: false, reasons, before, card, layout: null, unusedBytes: 0, keep, writes: [], bytesWritten: 0 };
  const layout = planRepairLayout(dev.sectorCount, rulesFor(board), keep);
  const now = o.now ?? new Date();
  const volumeId = (o.volumeId ?? ((now.getTime() / 1000) ^ (now.getMilliseconds() * 0x10001))) >>> 0;
  // The two headers are enough: entries without a header mean nothing to any reader, and each
  // sector sent over a serial link costs (the 66 sectors of a whole GPT: over a second at 250000 baud).
  const cleanup = (await hasGptHeader(dev)) ? [{ start: 1, count: 1 }, { start: dev.sectorCount - 1, count: 1 }] : [];
  const writes = repairWrites(layout, { label: REPAIR_LABEL, volumeId, now, cleanup });
  const end = layout.partitionStart + layout.partitionSectors;
  return {
    needed: true, reasons, before, card, layout, keep, writes,
    unusedBytes: (dev.sectorCount - end) * dev.sectorSize,
    bytesWritten: writeVolume(writes).bytes,
  };
}

/** The "EFI PART" header at sector 1, whether or not sector 0 is a protective MBR (hybrid cards). */
async function hasGptHeader(dev: BlockDevice): Promise<boolean> {
  if (dev.sectorCount < 67) return false;
  const s1 = await dev.read(1, 1);
  return String.fromCharCode(...s1.subarray(0, 8)) === 'EFI PART';
}

/** A GPT's primary header and entries (sectors 1–33) and its backup entries and header (the last 33). */
export function gptRanges(sectors: number): SectorRange[] {
  return [{ start: 1, count: 33 }, { start: sectors - 33, count: 33 }];
}

/** The sectors that make the card read as it does now (see the module comment). */
export function keepRanges(p: CardProbe, sectors: number, gpt: boolean): SectorRange[] {
  const out: SectorRange[] = [{ start: 0, count: 1 }];
  if (gpt || p.table === 'gpt') out.push(...gptRanges(sectors));
  const volume = (start: number, count: number) => {
    out.push({ start, count: Math.min(24, count) });
    if (count > 24) out.push({ start: start + count - 1, count: 1 });
  };
  if (p.table === 'none') volume(0, sectors);
  for (const part of [...p.partitions, ...p.logical]) {
    if (part.start > 0 && part.start < sectors) volume(part.start, Math.min(part.sectors, sectors - part.start));
  }
  return out;
}

/** Reads remembered for the planning (which writes nothing), by first sector and count. */
function readCache(dev: BlockDevice): BlockDevice {
  const seen = new Map<string, Uint8Array>();
  return {
    name: dev.name, sectorSize: dev.sectorSize, sectorCount: dev.sectorCount, readOnly: true,
    async read(lba, count) {
      const key = `${lba}+${count}`;
      let b = seen.get(key);
      if (!b) seen.set(key, (b = await dev.read(lba, count)));
      return b.slice();
    },
    write: () => Promise.reject(new Error('internal: planning a repair never writes')),
    flush: async () => undefined,
    close: async () => undefined,
  };
}

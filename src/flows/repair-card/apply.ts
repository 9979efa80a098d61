import type { BlockDevice } from '../../disk/block-device.js';
import type { ProgressListener } from '../../progress.js';
import { noProgress } from '../../progress.js';
import type { RepairPlan } from './plan.js';
import { readRecord, removeRecord, setAside, sha256, writeRecord, type RepairIdentity, type RepairRecord } from './record.js';
import type { RepairWrite } from './writes.js';

/**
 * Carrying out a repair plan on any BlockDevice (an image, a card reader, the card behind an MCU),
 * and completing one that an earlier run left unfinished. The order and why it is safe: plan.ts.
 */
export interface ApplyOptions {
  identity: RepairIdentity;
  /** The host's record (record.ts). */
  recordPath: string;
  onProgress?: ProgressListener;
}

/** The sectors, read before anything is written, whose hashes tell a re-run what the card is now. */
async function deciding(dev: BlockDevice, plan: RepairPlan): Promise<{ lba: number; sha256: string }[]> {
  const lbas = new Set<number>([0]);
  const first = plan.before.table === 'none' ? null : plan.before.partitions[0];
  if (first && first.start > 0 && first.start < dev.sectorCount) lbas.add(first.start);
  if (plan.keep.some((k) => k.start === 1)) lbas.add(1);
  const out: { lba: number; sha256: string }[] = [];
  for (const lba of lbas) out.push({ lba, sha256: sha256(await dev.read(lba, 1)) });
  return out;
}

/** Write the repair: record on the host, volume, MBR, clean-up, record removed. */
export async function applyRepair(dev: BlockDevice, plan: RepairPlan, o: ApplyOptions): Promise<{ bytesWritten: number }> {
  if (!plan.needed) return { bytesWritten: 0 };
  const rec: RepairRecord = { ...o.identity, started: new Date().toISOString(), pid: process.pid, before: await deciding(dev, plan), writes: plan.writes };
  writeRecord(o.recordPath, rec);
  await runWrites(dev, plan.writes, o.onProgress ?? noProgress);
  removeRecord(o.recordPath);
  return { bytesWritten: plan.bytesWritten };
}

/**
 * The writes in order, flushed at each phase's end: the volume is on the medium before the MBR
 * is written, and the MBR before the clean-up.
 */
async function runWrites(dev: BlockDevice, writes: RepairWrite[], progress: ProgressListener): Promise<void> {
  const total = writes.reduce((n, w) => n + w.count * dev.sectorSize, 0);
  let done = 0;
  let zeros: Uint8Array | null = null;
  const label = 'writing the new FAT volume';
  progress({ phase: 'format', label, bytes: 0, total });
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    let data = w.data;
    if (!data) {
      const bytes = w.count * dev.sectorSize;
      if (!zeros || zeros.byteLength < bytes) zeros = new Uint8Array(bytes);
      data = zeros.subarray(0, bytes);
    }
    await dev.write(w.lba, data);
    done += data.byteLength;
    progress({ phase: 'format', label, bytes: done, total });
    const next = writes[i + 1];
    if (!next || next.phase !== w.phase) await dev.flush();
  }
  progress({ phase: 'format', label, bytes: total, total, done: true });
}

export type ResumeOutcome =
  | { status: 'none' }
  /** The repair an earlier run left unfinished is now complete; `from` is what was left to do. */
  | { status: 'completed'; started: string; from: 'start' | 'cleanup'; bytesWritten: number }
  /** The record does not fit the card (another card, or it changed since); nothing was written. */
  | { status: 'stale'; started: string | null; reason: string; keptAt: string };

/** Complete the repair recorded at `recordPath` if one was left unfinished on this card. */
export async function resumeRepair(dev: BlockDevice, o: ApplyOptions): Promise<ResumeOutcome> {
  const rec = readRecord(o.recordPath);
  if (rec === null) return { status: 'none' };
  if (rec === 'unreadable') return { status: 'stale', started: null, reason: 'the record is not readable (another fwcard version, or damaged)', keptAt: setAside(o.recordPath) };
  const stale = (reason: string): ResumeOutcome => ({ status: 'stale', started: rec.started, reason, keptAt: setAside(o.recordPath) });
  if (rec.card !== o.identity.card || rec.sectors !== o.identity.sectors || rec.sectors !== dev.sectorCount) {
    return stale(`the record is for card ${rec.card} (${rec.sectors} sectors), this is ${o.identity.card} (${dev.sectorCount})`);
  }
  const mbr = rec.writes.find((w) => w.phase === 'table');
  if (!mbr?.data) return stale('the record holds no partition table');
  const s0 = await dev.read(0, 1);
  let todo: RepairWrite[];
  let from: 'start' | 'cleanup';
  if (sha256(s0) === sha256(mbr.data)) {
    // The new volume is complete and may have been written to since: only the clean-up is left.
    todo = rec.writes.filter((w) => w.phase === 'cleanup');
    from = 'cleanup';
  } else {
    for (const b of rec.before) {
      if (sha256(await dev.read(b.lba, 1)) !== b.sha256) return stale(`sector ${b.lba} of the card changed since the repair started (it was not written by the repair)`);
    }
    todo = rec.writes;
    from = 'start';
  }
  await runWrites(dev, todo, o.onProgress ?? noProgress);
  removeRecord(o.recordPath);
  return { status: 'completed', started: rec.started, from, bytesWritten: todo.reduce((n, w) => n + w.count * dev.sectorSize, 0) };
}

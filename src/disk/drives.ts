import { readdirSync, readlinkSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { blockInfo } from './linux-block.js';
import { assessDisk, systemDisks } from './safety.js';

/**
 * Finding the drives a user can pick. `drivelist` (etcher's scanner) is loaded lazily: it is an
 * optional dependency, so fwcard still runs (flash-sdcard on a Raspberry Pi, image files) where
 * it is missing; on Linux a sysfs scanner stands in for it.
 */
export interface Drive {
  device: string;
  description: string;
  sizeBytes: number | null;
  bus: string;
  removable: boolean;
  isCard: boolean;
  isUsb: boolean;
  isSystem: boolean;
  isVirtual: boolean;
  readOnly: boolean;
  mountpoints: string[];
  /** Stable names from /dev/disk/by-id. */
  byId: string[];
  /** Why this drive is not offered by default ("" when it is). */
  hiddenBecause: string;
  source: 'drivelist' | 'sysfs';
}

function byIdNames(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const dir = '/dev/disk/by-id';
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    try {
      const target = '/dev/' + basename(readlinkSync(join(dir, n)));
      out.set(target, [...(out.get(target) ?? []), n]);
    } catch {
      /* dangling link */
    }
  }
  return out;
}

function whyHidden(d: Omit<Drive, 'hiddenBecause'>): string {
  if (d.isSystem) return 'system disk';
  if (d.isVirtual) return 'virtual device';
  if (d.readOnly) return 'read-only';
  if (!d.removable && !d.isCard && !d.isUsb) return 'not removable';
  return '';
}

async function fromDrivelist(): Promise<Drive[] | null> {
  let mod: { list: () => Promise<any[]> };
  try {
    mod = (await import('drivelist')) as unknown as { list: () => Promise<any[]> };
  } catch {
    return null;
  }
  let raw: any[];
  try {
    raw = await mod.list();
  } catch {
    return null;
  }
  const ids = byIdNames();
  const sys = process.platform === 'linux' ? systemDisks() : new Map<string, string>();
  return raw.map((r) => {
    const device = String(r.device);
    const d = {
      device,
      description: String(r.description ?? ''),
      sizeBytes: typeof r.size === 'number' ? r.size : null,
      bus: String(r.busType ?? 'UNKNOWN'),
      removable: !!r.isRemovable,
      isCard: !!r.isCard,
      isUsb: !!r.isUSB,
      // Our own system-disk rule also applies: drivelist can miss LVM/dm stacks.
      isSystem: !!r.isSystem || sys.has(basename(device)),
      isVirtual: !!r.isVirtual,
      readOnly: !!r.isReadOnly,
      mountpoints: (r.mountpoints ?? []).map((m: { path: string }) => m.path),
      byId: ids.get(device) ?? [],
      source: 'drivelist' as const,
    };
    return { ...d, hiddenBecause: whyHidden(d) };
  });
}

function fromSysfs(): Drive[] {
  if (process.platform !== 'linux' || !existsSync('/sys/class/block')) return [];
  const ids = byIdNames();
  const out: Drive[] = [];
  for (const name of readdirSync('/sys/class/block')) {
    if (existsSync(`/sys/class/block/${name}/partition`)) continue;
    const dev = `/dev/${name}`;
    if (!existsSync(dev)) continue;
    let info;
    try {
      info = blockInfo(dev);
    } catch {
      continue;
    }
    if (!info || info.sizeBytes === 0) continue;
    const report = assessDisk(info);
    const d = {
      device: dev,
      description: [info.vendor, info.model].filter(Boolean).join(' ') || name,
      sizeBytes: info.sizeBytes,
      bus: name.startsWith('mmcblk') ? 'SD' : name.startsWith('loop') ? 'loop' : 'UNKNOWN',
      removable: info.removable,
      isCard: name.startsWith('mmcblk'),
      isUsb: false,
      isSystem: report.systemReasons.length > 0,
      isVirtual: /^(loop|zram|ram|dm-|md)/.test(name),
      readOnly: info.readOnly,
      mountpoints: report.mounted.map((m) => m.mountPoint),
      byId: ids.get(dev) ?? [],
      source: 'sysfs' as const,
    };
    out.push({ ...d, hiddenBecause: whyHidden(d) });
  }
  return out;
}

export async function listDrives(opts: { all?: boolean } = {}): Promise<Drive[]> {
  const drives = (await fromDrivelist()) ?? fromSysfs();
  return opts.all ? drives : drives.filter((d) => d.hiddenBecause === '');
}

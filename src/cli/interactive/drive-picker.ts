/** The drive picker: the removable drives `listDrives()` offers, described the way users recognise them. */
import { select } from '@inquirer/prompts';
import type { Drive } from '../../disk/drives.js';
import { UsageError } from '../../errors.js';
import { formatBytes } from '../../util/size.js';
import { asking, clip } from './terminal.js';

export interface Choice {
  name: string;
  value: string;
  description?: string;
}

export const driveKind = (d: Drive): string => (d.isCard ? 'SD card' : d.isUsb ? 'USB reader' : d.bus || 'drive');

/** One line per drive: device, size, kind, model, mount points; the by-id name below it. */
export function driveChoices(drives: Drive[]): Choice[] {
  return drives.map((d) => ({
    name: clip([d.device.padEnd(14), (d.sizeBytes === null ? '?' : formatBytes(d.sizeBytes)).padStart(10), driveKind(d).padEnd(10), d.description || '(no model name)', d.mountpoints.length ? `mounted: ${d.mountpoints.join(', ')}` : ''].filter(Boolean).join('  ')),
    value: d.device,
    ...(d.byId.length ? { description: `/dev/disk/by-id/${d.byId[0]}` } : {}),
  }));
}

export async function pickDrive(drives: Drive[]): Promise<string> {
  if (drives.length === 0) {
    throw new UsageError('no-drives', 'no removable drive found to prepare', {
      hint: 'Insert the card (or its reader) and try again; `fwcard drives --all` shows why other drives are not offered. An image file works too: `fwcard prepare card.img --size 8G …`.',
    });
  }
  return asking((context) => select({ message: 'Which card? (everything on it will be erased after you confirm; Esc cancels)', choices: driveChoices(drives), pageSize: 10 }, context));
}

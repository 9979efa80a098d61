import type { BlockDevice } from '../disk/block-device.js';

/**
 * The GUID Partition Table, read only: header at LBA 1 ("EFI PART"), entries where the header
 * says (UEFI specification, chapter 5). Type GUIDs are named for the partitions people find on
 * SD cards (Linux images, Windows, macOS, Raspberry Pi / SBC boot partitions).
 */
export interface GptEntry {
  index: number;
  start: number;
  sectors: number;
  typeGuid: string;
  typeName: string;
  /** The partition's own name (UTF-16 in the entry), or null. */
  name: string | null;
}

export interface Gpt {
  /** The "EFI PART" header at LBA 1 was found (a protective MBR without it lists nothing). */
  header: boolean;
  entries: GptEntry[];
}

export const GPT_TYPE_NAMES: Record<string, string> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI system',
  '21686148-6449-6E6F-744E-656564454649': 'BIOS boot',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Microsoft basic data',
  'E3C9E316-0B5C-4DB8-817D-F92DF00215AE': 'Microsoft reserved',
  'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC': 'Windows recovery',
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux filesystem',
  '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F': 'Linux swap',
  'E6D6D379-F507-44C2-A23C-238F2A3DF928': 'Linux LVM',
  'A19D880F-05FC-4D3B-A006-743F0F84911E': 'Linux RAID',
  'CA7D7CCB-63ED-4C53-861C-1742536059CC': 'Linux LUKS',
  '933AC7E1-2EB4-4F13-B844-0E14E2AEF915': 'Linux home',
  '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709': 'Linux root (x86-64)',
  'B921B045-1DF0-41C3-AF44-4C6F280D3FAE': 'Linux root (arm64)',
  '69DAD710-2CE4-4E3C-B16C-21A1D49ABED3': 'Linux root (arm)',
  'BC13C2FF-59E6-4262-A352-B275FD6F7172': 'Linux extended boot',
  '48465300-0000-11AA-AA11-00306543ECAC': 'Apple HFS+',
  '7C3457EF-0000-11AA-AA11-00306543ECAC': 'Apple APFS',
  'FE3A2A5D-4F32-41A7-B725-ACCC3285A309': 'ChromeOS kernel',
  '3CB8E202-3B7E-47DD-8A3C-7FF2A13CFCEC': 'ChromeOS root',
};

/** A GUID as text: the first three fields are little-endian on disk. */
export function guidText(b: Uint8Array, o: number): string {
  const hex = (i: number) => b[o + i]!.toString(16).padStart(2, '0');
  const bytes = (ix: number[]) => ix.map(hex).join('');
  return `${bytes([3, 2, 1, 0])}-${bytes([5, 4])}-${bytes([7, 6])}-${bytes([8, 9])}-${bytes([10, 11, 12, 13, 14, 15])}`.toUpperCase();
}

/** Read the GPT header and its entries (at most 128, as every tool writes). */
export async function readGpt(dev: BlockDevice): Promise<Gpt> {
  if (dev.sectorCount < 3) return { header: false, entries: [] };
  const hdr = await dev.read(1, 1);
  if (String.fromCharCode(...hdr.subarray(0, 8)) !== 'EFI PART') return { header: false, entries: [] };
  const dv = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  const entriesLba = Number(dv.getBigUint64(72, true));
  const count = Math.min(dv.getUint32(80, true), 128);
  const size = dv.getUint32(84, true);
  const sectorsNeeded = Math.ceil((count * size) / dev.sectorSize);
  if (size < 128 || entriesLba < 2 || entriesLba + sectorsNeeded > dev.sectorCount) return { header: true, entries: [] };
  const arr = await dev.read(entriesLba, sectorsNeeded);
  const adv = new DataView(arr.buffer, arr.byteOffset, arr.byteLength);
  const entries: GptEntry[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * size;
    if (arr.subarray(o, o + 16).every((b) => b === 0)) continue;
    const first = Number(adv.getBigUint64(o + 32, true));
    const last = Number(adv.getBigUint64(o + 40, true));
    const typeGuid = guidText(arr, o);
    let name = '';
    for (let k = 0; k < 36; k++) {
      const c = adv.getUint16(o + 56 + 2 * k, true);
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
    entries.push({ index: i, start: first, sectors: Math.max(0, last - first + 1), typeGuid, typeName: GPT_TYPE_NAMES[typeGuid] ?? `type ${typeGuid}`, name: name || null });
  }
  return { header: true, entries };
}

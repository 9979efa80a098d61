import { execFileSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';

/** Card images as PCs leave them, made by the native tools (sparse files). */
export type CardKind = 'exfat-mbr' | 'exfat-whole' | 'ntfs-whole' | 'gpt' | 'gpt-exfat' | 'fat32-64k';

function loop(path: string, offset: number, size: number): string {
  return execFileSync('losetup', ['-f', '--show', '-o', String(offset), '--sizelimit', String(size), path], { encoding: 'utf8' }).trim();
}

function onLoop(path: string, offset: number, size: number, cmd: string, args: string[]): void {
  const dev = loop(path, offset, size);
  try {
    execFileSync(cmd, [...args, dev], { stdio: 'ignore' });
  } finally {
    execFileSync('losetup', ['-d', dev]);
  }
}

export function makeForeignCard(path: string, kind: CardKind, sizeMiB: number): void {
  writeFileSync(path, '');
  truncateSync(path, sizeMiB * 1024 * 1024);
  const bytes = sizeMiB * 1024 * 1024;
  // What Windows and the SD Formatter do: the volume at 4 MiB (SDHC) / 16 MiB (SDXC), or 1 MiB.
  const start = sizeMiB > 32 * 1024 ? 32768 : 2048;
  switch (kind) {
    case 'exfat-mbr': {
      const size = bytes / 512 - start;
      execFileSync('sfdisk', ['-q', path], { input: `label: dos\nstart=${start}, size=${size}, type=7\n` });
      onLoop(path, start * 512, size * 512, 'mkfs.exfat', ['-L', 'PCCARD']);
      break;
    }
    case 'exfat-whole':
      execFileSync('mkfs.exfat', ['-L', 'WHOLE', path], { stdio: 'ignore' });
      break;
    case 'ntfs-whole':
      execFileSync('mkntfs', ['-F', '-Q', '-q', '-L', 'WINCARD', path], { stdio: 'ignore' });
      break;
    case 'gpt':
    case 'gpt-exfat': {
      execFileSync('sgdisk', ['-o', '-n', '1:2048:0', '-t', '1:0700', '-c', '1:DATA', path], { stdio: 'ignore' });
      const size = bytes / 512 - 2048 - 34;
      onLoop(path, 2048 * 512, size * 512, kind === 'gpt' ? 'mkfs.fat' : 'mkfs.exfat', kind === 'gpt' ? ['-F', '32'] : ['-L', 'GPTCARD']);
      break;
    }
    case 'fat32-64k': {
      const size = bytes / 512 - start;
      execFileSync('sfdisk', ['-q', path], { input: `label: dos\nstart=${start}, size=${size}, type=c\n` });
      execFileSync('mkfs.fat', ['-F', '32', '-s', '128', '-S', '512', '-h', String(start), `--offset=${start}`, path, String(size / 2)], { stdio: 'ignore' });
      break;
    }
  }
}

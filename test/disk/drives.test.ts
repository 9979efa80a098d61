import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { runCli } from '../helpers/judges.js';

describe('fwcard drives', () => {
  const root = (() => {
    const src = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).trim();
    const pk = execFileSync('lsblk', ['-n', '-d', '-o', 'PKNAME', src], { encoding: 'utf8' }).trim();
    return pk ? `/dev/${pk}` : src;
  })();

  it('never offers the system disk, and --all shows it marked', () => {
    const plain = JSON.parse(runCli(['drives', '--json']).stdout);
    expect(plain.ok).toBe(true);
    expect(plain.drives.map((d: any) => d.device)).not.toContain(root);
    for (const d of plain.drives) expect(d.hiddenBecause).toBe('');
    const all = JSON.parse(runCli(['drives', '--all', '--json']).stdout);
    const sys = all.drives.find((d: any) => d.device === root);
    expect(sys, JSON.stringify(all.drives)).toBeTruthy();
    expect(sys.isSystem).toBe(true);
    expect(sys.hiddenBecause).toBe('system disk');
    expect(sys.mountpoints).toContain('/');
  });

  it('human output marks hidden drives with the reason', () => {
    const r = runCli(['drives', '--all']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(root);
    expect(r.stdout).toMatch(/\[system disk\]/);
  });
});

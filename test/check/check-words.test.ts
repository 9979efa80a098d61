/**
 * Words that mislead (issue 16): card sizes in the unit a user buys them in, the catalog's gaps
 * said only where they changed the verdict.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { check } from '../../src/flows/check.js';
import { cardKind } from '../../src/fat/layout.js';
import { formatGB } from '../../src/util/size.js';
import { removeDir, tempDir } from '../helpers/judges.js';
import { FIRMWARE, GiB, fatCard, mcopy } from './cards.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('fwcard-checkwords-');
});
afterAll(() => removeDir(dir));

const text = (r: { findings: { message: string; hint: string }[] }): string => r.findings.map((f) => `${f.message} ${f.hint}`).join('\n');

describe('card sizes', () => {
  it('SD classes: a card labelled 32 GB is SDHC (SD spec: over 2 GB up to 32 GB); SDXC starts past C_SIZE 0xFF5F', () => {
    // What "32 GB" cards hold (C_SIZE × 512 KiB): always below 32 × 10^9 bytes.
    expect(cardKind(31_914_983_424)).toBe('SDHC');
    expect(cardKind(32e9)).toBe('SDHC');
    expect(cardKind(2 * GiB)).toBe('SDSC');
    expect(cardKind(64e9)).toBe('SDXC');
    expect(formatGB(31_914_983_424)).toBe('31.9 GB');
    expect(formatGB(32e9)).toBe('32 GB');
    expect(formatGB(128 * GiB)).toBe('137 GB');
  });

  it('a FAT32 32 GiB image for an Octopus: no SDXC warning, no "32 GB or less", no catalog-gap note', async () => {
    const img = join(dir, 'big.img');
    const off = fatCard(img, 32 * GiB, ['-F', '32', '-s', '64']);
    mcopy(img, off, FIRMWARE, 'firmware.bin');
    const r = await check({ target: img, board: 'btt-octopus-f446-v1' });
    expect(r.ok).toBe(true);
    expect(r.findings.map((f) => f.id)).not.toContain('card-sdxc');
    expect(text(r)).not.toMatch(/32 GB or less|SDXC/);
    expect(r.findings.map((f) => f.id)).not.toContain('board-rules-unknown');
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('over a board\'s limit: the card and the limit in GB as sold, one unit system on the line', async () => {
    const img = join(dir, 'qidi.img');
    const off = fatCard(img, 32 * GiB, ['-F', '32', '-s', '8']);
    mcopy(img, off, FIRMWARE, 'X_4.bin');
    const r = await check({ target: img, board: 'qidi-x6' });
    const f = r.findings.find((x) => x.id === 'card-too-large');
    expect(f?.severity).toBe('warning');
    expect(f!.message).toMatch(/holds 34\.4 GB; qidi-x6 is reported to work with cards up to 32 GB/);
    expect(f!.message).toMatch(/10\^9/);
    expect(`${f!.message} ${f!.hint}`).not.toMatch(/GiB/);
    expect(f!.hint).toMatch(/a card of 32 GB or smaller/);
  });

  it('a real "32 GB" card for that board is within its limit', async () => {
    const img = join(dir, 'qidi32.img');
    const off = fatCard(img, 31_914_983_424, ['-F', '32', '-s', '8']);
    mcopy(img, off, FIRMWARE, 'X_4.bin');
    const r = await check({ target: img, board: 'qidi-x6' });
    expect(r.findings.map((x) => x.id)).not.toContain('card-too-large');
  });
});

describe('board-rules-unknown', () => {
  it('said only where a warning rests on the generic view for want of a catalog fact', async () => {
    const img = join(dir, 'clusters.img');
    const off = fatCard(img, 8 * GiB, ['-F', '32', '-s', '128']); // 64 KiB clusters
    mcopy(img, off, FIRMWARE, 'firmware.bin');
    const r = await check({ target: img, board: 'btt-octopus-f446-v1' });
    expect(r.findings.find((f) => f.id === 'cluster-too-large')).toMatchObject({ severity: 'warning', basis: 'generic' });
    const u = r.findings.filter((f) => f.id === 'board-rules-unknown');
    expect(u).toHaveLength(1);
    expect(u[0]!.message).toMatch(/^cluster-too-large: judged by the generic SD-bootloader view/);
    // Only the gap behind that finding, not every rule the catalog leaves open.
    expect(u[0]!.message).toMatch(/does not know for btt-octopus-f446-v1 the largest cluster size$/);
  });
});

// The user's files around a firmware (issue 7: "the host loses nothing"): what a card holds
// besides the firmware, put there with mtools before a run, and the host files a run is given.
// A run may change the firmware path and nothing else; these are what it must leave alone.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mtoolsOk, sha } from './card-tree.js';

/**
 * Put bystanders on the card image `img` (FAT volume at byte `offset`), with bytes from `rand`:
 * an empty file, a lower-case 8.3 name (NT case flags, no long name), long names of several
 * slots, sizes of 1 byte to 70 KB and exact cluster multiples, a firmware-like .bin the board
 * does not take, a read-only + hidden + system file, a file without the archive bit, an old
 * firmware.bin and FIRMWARE.CUR in a subdirectory, a hidden nested folder, an empty folder, a
 * folder of 24 long names (more than one cluster), a fragmented file and a volume label.
 */
export function seedBystanders(img, offset, scratch, rand) {
  const host = mkdtempSync(join(scratch, 'bystanders-'));
  const bytes = (n) => Buffer.from(Uint8Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const put = (rel, data) => {
    mkdirSync(dirname(join(host, 'top', rel)), { recursive: true });
    writeFileSync(join(host, 'top', rel), data);
  };
  try {
    put('EMPTY.TXT', '');
    put('ONE.TXT', 'x');
    put('printer.cfg', '[printer]\nkinematics: cartesian\nmax_velocity: 300\n'.repeat(60));
    put('A very long file name for a printer macro backup.cfg', bytes(70_000));
    put('klipper-v0.11-backup.bin', bytes(12_000));
    put('NOTES.TXT', bytes(511));
    put('C2048.DAT', bytes(2048));
    put('C4096.DAT', bytes(4096));
    put('old/firmware.bin', bytes(12_000));
    put('old/FIRMWARE.CUR', bytes(11_000));
    put('old/Deeper Folder/x.cfg', bytes(1));
    mkdirSync(join(host, 'top', 'old', 'Deeper Folder', 'empty'), { recursive: true });
    for (let i = 0; i < 24; i++) put(`gcodes/part ${String(i).padStart(2, '0')} of a long print job.gcode`, bytes(50 + Math.floor(rand() * 600)));
    const top = readdirSync(join(host, 'top')).sort().map((n) => join(host, 'top', n));
    mtoolsOk('mcopy', img, offset, ['-s', '-m', ...top, '::/']);
    // A fragmented file: it fills the hole a deleted spacer left, then goes on after the next file.
    put('spacer.tmp', bytes(3000));
    put('after-spacer.dat', bytes(1000));
    put('Fragmented file.dat', bytes(40_000));
    mtoolsOk('mcopy', img, offset, ['-m', join(host, 'top', 'spacer.tmp'), join(host, 'top', 'after-spacer.dat'), '::/']);
    mtoolsOk('mdel', img, offset, ['::/spacer.tmp']);
    mtoolsOk('mcopy', img, offset, ['-m', join(host, 'top', 'Fragmented file.dat'), '::/']);
    mtoolsOk('mattrib', img, offset, ['+r', '+h', '+s', '::/NOTES.TXT']);
    mtoolsOk('mattrib', img, offset, ['-a', '::/C4096.DAT']);
    mtoolsOk('mattrib', img, offset, ['+h', '::/old/Deeper Folder']);
    mtoolsOk('mlabel', img, offset, ['::BYSTANDER']);
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
}

/**
 * Size, modification time, mode and SHA-256 of every file in a host directory (recursively):
 * the -f/-d files a run is given live in such a directory, and nothing in it may change.
 */
export function hostState(dir) {
  const out = new Map();
  const walk = (d, rel) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      const r = rel ? `${rel}/${n}` : n;
      if (st.isDirectory()) {
        out.set(`${r}/`, `dir:${(st.mode & 0o7777).toString(8)}`);
        walk(p, r);
      } else {
        out.set(r, `${st.size} bytes, mtime ${st.mtimeMs}, mode ${(st.mode & 0o7777).toString(8)}, sha ${st.isFile() ? sha(readFileSync(p)).slice(0, 16) : 'not a file'}`);
      }
    }
  };
  walk(dir, '');
  return out;
}

/** What changed in a host directory: one problem per file changed, removed or added. */
export function compareHost(before, after, dir) {
  const problems = [];
  for (const [p, f] of before) {
    if (!after.has(p)) problems.push(`host file ${join(dir, p)} was removed`);
    else if (after.get(p) !== f) problems.push(`host file ${join(dir, p)} changed: ${f} → ${after.get(p)}`);
  }
  for (const p of after.keys()) if (!before.has(p)) problems.push(`host file ${join(dir, p)} appeared`);
  return problems;
}

import { describe, expect, it } from 'vitest';
import { adviceLines } from '../../src/cli/render/advice.js';
import { terminalWidth, visibleLength, words, wrap } from '../../src/cli/wrap.js';

// The layout rules of fwcard's terminal output (issue 16): lines within the width, words and
// backticked commands never split, long commands on a line of their own to paste.

/** The words of the lines with the layout (prefixes, `$ `) taken off: what the text said. */
const said = (lines: string[], prefixes: string[] = []): string[] =>
  lines.flatMap((l) => {
    let t = l;
    for (const p of prefixes) if (p.trim() && t.startsWith(p)) t = t.slice(p.length);
    return words(t.trim().replace(/^\$ /, ''));
  });

describe('terminalWidth', () => {
  it('COLUMNS first, then the terminal, else 80; nonsense ignored, tiny widths raised to 20', () => {
    expect(terminalWidth({ COLUMNS: '60' }, { isTTY: true, columns: 132 })).toBe(60);
    expect(terminalWidth({}, { isTTY: true, columns: 132 })).toBe(132);
    expect(terminalWidth({}, { isTTY: false, columns: 132 })).toBe(80);
    expect(terminalWidth({}, {})).toBe(80);
    expect(terminalWidth({ COLUMNS: 'wide' }, {})).toBe(80);
    expect(terminalWidth({ COLUMNS: '0' }, { isTTY: true, columns: 100 })).toBe(100);
    expect(terminalWidth({ COLUMNS: '-5' }, {})).toBe(80);
    expect(terminalWidth({ COLUMNS: '7' }, {})).toBe(20);
  });
});

describe('visibleLength', () => {
  it('counts code points and skips colour codes', () => {
    expect(visibleLength('\x1b[31merror\x1b[0m')).toBe(5);
    expect(visibleLength('✔ ok …')).toBe(6);
  });
});

describe('wrap', () => {
  const prose = 'the catalog does not know, for btt-octopus-f446-v1: the largest cluster size; the largest card; whether long file names are read';

  it.each([20, 21, 33, 40, 59, 60, 61, 80, 200])('at width %i no line is longer (but for one word wider than the line) and every word is kept whole and in order', (width) => {
    const lines = wrap(prose, { first: '  → ', rest: '    ', width });
    for (const l of lines) if (visibleLength(l) > width) expect(words(l.replace('→', '')), l).toHaveLength(1);
    expect(said(lines, ['  → '])).toEqual(words(prose));
    expect(lines[0]!.startsWith('  → ')).toBe(true);
    for (const l of lines.slice(1)) expect(l.startsWith('    ') && l[4] !== ' ', l).toBe(true);
  });

  it('fills lines: a line ends only where the next word does not fit', () => {
    const lines = wrap(prose, { first: '', width: 30 });
    for (let i = 0; i + 1 < lines.length; i++) expect(lines[i]!.length + 1 + words(lines[i + 1]!)[0]!.length).toBeGreaterThan(30);
  });

  it('a word wider than the line is left whole, alone on its line, below a label', () => {
    const url = 'https://github.com/bigtreetech/BIGTREETECH-OCTOPUS-V1.0/raw/HEAD/Firmware/DFU%20Update%20bootloader/OctoPus-F446-bootloader-32KB.hex';
    const lines = wrap(`see ${url} for it`, { first: '', width: 40 });
    expect(lines).toEqual(['see', url, 'for it']);
    expect(wrap(url, { first: '    B-OCT-BL: ', rest: '      ', width: 40 })).toEqual(['    B-OCT-BL:', `      ${url}`]);
  });

  it('an exact fit stays on the line; one column more moves the word', () => {
    expect(wrap('aaaa bbbb', { first: '', width: 9 })).toEqual(['aaaa bbbb']);
    expect(wrap('aaaa bbbbb', { first: '', width: 9 })).toEqual(['aaaa', 'bbbbb']);
  });

  it('indentation: rest defaults to spaces as wide as first, colour codes not counted', () => {
    const lines = wrap('one two three four five six', { first: '\x1b[32m✔\x1b[0m ', width: 12 });
    expect(lines).toEqual(['\x1b[32m✔\x1b[0m one two', '  three four', '  five six']);
  });

  it('a short backticked command moves to the next line whole, never split at its spaces', () => {
    const text = 'If you know, add it with --boards-file (see `fwcard boards --help`).';
    const lines = wrap(text, { first: '→ ', rest: '  ', width: 50, commands: ['fwcard boards --help'] });
    expect(lines).toEqual(['→ If you know, add it with --boards-file (see', '  `fwcard boards --help`).']);
    // Not a command of the hint's remedy: the same, it is one word.
    expect(wrap(text, { first: '→ ', rest: '  ', width: 50 })).toEqual(lines);
  });

  it("a remedy's long command goes on its own line after `$ `, whole even when wider than the screen; the prose goes on", () => {
    const cmd = 'fwcard check /tmp/card.img --board btt-octopus-f446-v1 --fix';
    const text = `Remove them: \`${cmd}\` (or \`dot_clean\` on the Mac).`;
    for (const width of [40, 80, 120]) {
      const lines = wrap(text, { first: '→ ', rest: '  ', width, commands: [cmd, 'dot_clean'] });
      expect(lines[0]).toBe('→ Remove them:');
      expect(lines[1]).toBe(`  $ ${cmd}`);
      // The short alternative reads inline, in its backticks.
      expect(lines.slice(2).join(' ')).toMatch(/^ *\(or `dot_clean` on the Mac\)\.$/);
    }
    // The sentence's full stop after a command is not pasted along.
    expect(wrap(`Rename it: \`${cmd}\`.`, { first: '', width: 80, commands: [cmd] })).toEqual(['Rename it:', `$ ${cmd}`]);
    // A bare prefix keeps its mark.
    expect(wrap(`\`${cmd}\` and power-cycle`, { first: '  - ', rest: '    ', width: 80, commands: [cmd] })).toEqual(['  -', `    $ ${cmd}`, '    and power-cycle']);
  });

  it('a backticked command not among the remedy commands stays inline (moved down whole when it does not fit)', () => {
    const cmd = 'fwcard check /tmp/card.img --board btt-octopus-f446-v1 --fix';
    const lines = wrap(`Remove them: \`${cmd}\`.`, { first: '', width: 40 });
    expect(lines).toEqual(['Remove them:', `\`${cmd}\`.`]);
  });

  it('paragraphs start new lines; an empty text is the prefix alone', () => {
    expect(wrap('one\ntwo', { first: '- ', width: 80 })).toEqual(['- one', '  two']);
    expect(wrap('', { first: '  ', width: 80 })).toEqual(['']);
    expect(wrap('', { first: '  - ', width: 80 })).toEqual(['  -']);
  });

  it('the old positional form still works', () => {
    expect(wrap('a b c', '> ', '  ', 5)).toEqual(['> a b', '  c']);
  });
});

describe('adviceLines', () => {
  const fix = { argv: ['fwcard', 'check', '/tmp/my card.img', '--board', 'btt-octopus-f446-v1', '--fix'], why: 'repairs names' };
  const line = "fwcard check '/tmp/my card.img' --board btt-octopus-f446-v1 --fix";

  it("renders the remedy's command, as the shell takes it, on its own line", () => {
    expect(adviceLines(`Rename it: \`${line}\`.`, fix, { first: '→ ', rest: '  ', width: 60 })).toEqual(['→ Rename it:', `  $ ${line}`]);
  });

  it('a remedy command the prose does not name still gets its line; alternatives too', () => {
    const remedy = { ...fix, alternatives: [{ argv: ['dot_clean', '/Volumes/CARD'], why: 'macOS' }] };
    expect(adviceLines('Remove the junk files.', remedy, { first: '→ ', rest: '  ', width: 60 })).toEqual(['→ Remove the junk files.', `  $ ${line}`, '  $ dot_clean /Volumes/CARD']);
    expect(adviceLines('Nothing to run.', undefined, { first: '', rest: '', width: 60 })).toEqual(['Nothing to run.']);
  });
});

import { describe, expect, it } from 'vitest';
import { advice, commandLine, fromSystemError, FwcardError, hasCode, IoError, remedyCommands, shellWord, UsageError } from '../../src/errors.js';

// A remedy is a command as argv; the hint's text and doctor's commands are both rendered from it.
describe('remedies', () => {
  it('renders argv as a POSIX command line: plain words bare, placeholders bare, the rest quoted', () => {
    expect(commandLine(['fwcard', 'check', '/dev/sdb', '--board', 'btt-skr-mini-e3-v3', '--fix'])).toBe('fwcard check /dev/sdb --board btt-skr-mini-e3-v3 --fix');
    expect(commandLine(['fwcard', 'prepare', 'my card.img', '--firmware', '<firmware.bin>'])).toBe("fwcard prepare 'my card.img' --firmware <firmware.bin>");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
    expect(shellWord('/dev/serial/by-id/<your-board>')).toBe('/dev/serial/by-id/<your-board>');
    expect(shellWord('a;rm -rf ~')).toBe("'a;rm -rf ~'");
    expect(shellWord('$(x)')).toBe("'$(x)'");
  });

  it('advice renders each remedy as its backticked command; the first is the remedy, the rest its alternatives', () => {
    const fix = { argv: ['fwcard', 'check', 'card.img', '--fix'], why: 'repairs names' };
    const dot = { argv: ['dot_clean'], why: 'merges ._ files' };
    const a = advice`Remove them: ${fix} (or ${dot} on the Mac), ${2} files.`;
    expect(a.hint).toBe('Remove them: `fwcard check card.img --fix` (or `dot_clean` on the Mac), 2 files.');
    expect(a.remedy).toEqual({ ...fix, alternatives: [dot] });
    expect(remedyCommands(a.remedy).map(commandLine)).toEqual(['fwcard check card.img --fix', 'dot_clean']);
    expect(advice`Nothing to run.`).toEqual({ hint: 'Nothing to run.' });
    expect(advice`Only ${fix}`.remedy).toEqual(fix);
    expect(remedyCommands(undefined)).toEqual([]);
  });

  it('an error carries its remedy into --json only when it has one; toJSON is otherwise unchanged', () => {
    const plain = new UsageError('bad-size', 'bad size', { hint: 'Use 8G.' });
    expect(plain.toJSON()).toEqual({ code: 'bad-size', message: 'bad size', hint: 'Use 8G.', details: {} });
    const nf = fromSystemError({ code: 'ENOENT' }, '/dev/sdz', 'open');
    expect(nf).toBeInstanceOf(IoError);
    expect(nf.toJSON()).toEqual({
      code: 'not-found',
      message: '/dev/sdz: no such file or device',
      hint: 'Check the path. `fwcard drives` lists the cards this machine can see.',
      details: { path: '/dev/sdz' },
      remedy: { argv: ['fwcard', 'drives'], why: 'lists the cards this machine can see' },
    });
  });

  it('hasCode narrows an unknown error to the code and its details', () => {
    const e: unknown = fromSystemError({ code: 'EROFS' }, '/dev/sdc', 'write');
    expect(hasCode(e, 'read-only')).toBe(true);
    expect(hasCode(e, 'not-found')).toBe(false);
    expect(hasCode(new Error('read-only'), 'read-only')).toBe(false);
    if (hasCode(e, 'read-only')) expect(e.details.path).toBe('/dev/sdc');
    expect(e).toBeInstanceOf(FwcardError);
    expect((e as FwcardError).transient).toBe(false);
  });
});

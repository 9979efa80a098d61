import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/boards/catalog.js';
import { buildProgram } from '../../src/cli/main.js';
import { completionModel } from '../../src/cli/completion/model.js';
import { zshScript } from '../../src/cli/completion/zsh.js';
import { removeDir, runCli, tempDir } from '../helpers/judges.js';
import { Tmux } from './tmux.js';

/** The program with every command registered, as `fwcard --help` and the completion script see it. */
const program = await buildProgram();

// The bash script as a user gets it (`fwcard completion bash`), sourced in a real bash; each
// case sets the words on the line the way bash's programmable completion does and reads COMPREPLY.
const dir = tempDir('fwcard-completion-');
afterAll(() => removeDir(dir));
const NO_USER_BOARDS = join(dir, 'none.json');
writeFileSync(NO_USER_BOARDS, '{ "boards": [] }');

const script = join(dir, 'fwcard.bash');
const gen = runCli(['completion', 'bash'], { env: { FWCARD_BOARDS: NO_USER_BOARDS } });
writeFileSync(script, gen.stdout);

// Files to complete: a firmware next to a card image.
const files = join(dir, 'files');
mkdirSync(join(files, 'out'), { recursive: true });
writeFileSync(join(files, 'out', 'klipper.bin'), '');
writeFileSync(join(files, 'card.img'), '');

/** Completions for the line `words` with the cursor at the end of its last word. */
function complete(words: string[], opts: { script?: string } = {}): string[] {
  const arr = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const body = `source ${JSON.stringify(opts.script ?? script)} || exit 9
COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; COMP_LINE=${JSON.stringify(words.join(' '))}; COMP_POINT=\${#COMP_LINE}
_fwcard
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', body], { encoding: 'utf8', cwd: files });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('fwcard completion bash', () => {
  it('prints a script bash accepts, registering _fwcard for fwcard', () => {
    expect(gen.status).toBe(0);
    const r = spawnSync('bash', ['--norc', '-c', `source ${JSON.stringify(script)} && complete -p fwcard`], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('complete -F _fwcard fwcard');
  });

  it('completes command names from the program', () => {
    expect(complete(['fwcard', 'd'])).toEqual(['doctor', 'drives']);
    expect(complete(['fwcard', 's'])).toEqual(['scan', 'simulate']);
    const all = complete(['fwcard', '']);
    for (const c of program.commands) expect(all).toContain(c.name());
    expect(complete(['fwcard', 'help', 'fl'])).toEqual(['flash-sdcard']);
  });

  it('completes a command\'s flags, and only that command\'s', () => {
    expect(complete(['fwcard', 'prepare', '/dev/sdb', '--b'])).toEqual(['--board', '--boards-file']);
    expect(complete(['fwcard', 'doctor', '--c'])).toEqual(['--card']);
    expect(complete(['fwcard', 'check', 'card.img', '--fi'])).toEqual(['--firmware', '--fix']);
    expect(complete(['fwcard', 'drives', '--'])).toEqual(['--all', '--help', '--json']);
  });

  it('completes --board with catalog names and aliases', () => {
    expect(complete(['fwcard', 'prepare', 'card.img', '--board', 'btt-octopus-f4'])).toEqual(
      loadCatalog({ noUserConfig: true }).all().flatMap((b) => [b.name, ...b.aliases]).filter((n) => n.startsWith('btt-octopus-f4')).sort(),
    );
    expect(complete(['fwcard', 'doctor', '--board', 'creality-v4.2.'])).toEqual(['creality-v4.2.2', 'creality-v4.2.7']);
    // flash-sdcard's second positional argument is the board; the first is the serial device.
    expect(complete(['fwcard', 'flash-sdcard', '-b', '250000', '/dev/ttyAMA0', 'btt-skr-mini-e3-v'])).toEqual(['btt-skr-mini-e3-v1', 'btt-skr-mini-e3-v1.2', 'btt-skr-mini-e3-v2', 'btt-skr-mini-e3-v3', 'btt-skr-mini-e3-v3-b0', 'btt-skr-mini-e3-v3.0.1'].filter((n) => loadCatalog({ noUserConfig: true }).find(n)));
  });

  it('completes choices, files, and nothing for free-text values', () => {
    expect(complete(['fwcard', 'prepare', 'card.img', '--fs', 'fat'])).toEqual(['fat16', 'fat32']);
    expect(complete(['fwcard', 'completion', ''])).toEqual(['bash', 'zsh']);
    expect(complete(['fwcard', 'prepare', 'card.img', '--firmware', 'out/'])).toEqual(['out/klipper.bin']);
    expect(complete(['fwcard', 'check', 'ca'])).toEqual(['card.img']);
    expect(complete(['fwcard', 'prepare', 'card.img', '--size', ''])).toEqual([]);
    // After --size's value, the next word is a target again (a batch), not the size.
    expect(complete(['fwcard', 'prepare', '--size', '8G', 'ca'])).toEqual(['card.img']);
  });

  it('a boards file adds its boards to the script', () => {
    const boards = join(dir, 'mine.json');
    writeFileSync(boards, JSON.stringify({ boards: [{ name: 'my-own-board', extends: 'btt-skr-mini-v3' }] }));
    const mine = join(dir, 'mine.bash');
    writeFileSync(mine, runCli(['completion', 'bash', '--boards-file', boards], { env: { FWCARD_BOARDS: NO_USER_BOARDS } }).stdout);
    expect(complete(['fwcard', 'inspect', 'x.bin', '--board', 'my-'], { script: mine })).toEqual(['my-own-board']);
    expect(complete(['fwcard', 'inspect', 'x.bin', '--board', 'my-'])).toEqual([]);
  });
});

describe('fwcard completion zsh', () => {
  const model = completionModel(program, ['btt-octopus-f446-v1', 'creality-v4.2.2']);
  const z = zshScript(model);

  it('has one _arguments block per command with its flags, values and arguments', () => {
    expect(z.startsWith('#compdef fwcard\n')).toBe(true);
    for (const c of program.commands) expect(z).toContain(`        ${c.name()})\n          _arguments -s`);
    expect(z).toContain("_fwcard_boards=('btt-octopus-f446-v1' 'creality-v4.2.2')");
    expect(z).toMatch(/'--board\[[^\]]*\]:board:_fwcard_board_names'/);
    expect(z).toMatch(/'--fs\[file system\]:value:\(auto fat16 fat32\)'/);
    expect(z).toContain("'(-y --yes)'{-y,--yes}'[do not ask for confirmation before erasing]'");
    expect(z).toContain("'*:targets:_files'");
    expect(z).toContain("'2:board:_fwcard_board_names'");
  });

  it('descriptions with brackets, colons and apostrophes are escaped for _arguments', () => {
    const p = new Command('fwcard');
    p.command('odd').description("it's odd: [really]").option('--x <file>', "the board's [x]: file").argument('[board]');
    const out = zshScript(completionModel(p, ["b'1"]));
    expect(out).toContain("'--x[the board'\\''s \\[x\\]\\: file]:value:_files'");
    expect(out).toContain("'odd:it'\\''s odd: [really]'");
    expect(out).toContain("_fwcard_boards=('b'\\''1')");
    const r = spawnSync('zsh', ['-n', '-c', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('the zsh script parses (zsh -n) and its single quotes pair up', () => {
    // Descriptions with apostrophes are escaped as '\''.
    for (const line of z.split('\n')) expect((line.replace(/'\\''/g, '').match(/'/g) ?? []).length % 2, line).toBe(0);
    const r = spawnSync('zsh', ['-n', '-c', z], { encoding: 'utf8' });
    expect(r.error, 'zsh must be installed (Debian package zsh)').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
  });

  it('completes in a real zsh (tmux): a command, a choice, a board name, a file', async () => {
    const zfile = join(dir, '_fwcard');
    writeFileSync(zfile, runCli(['completion', 'zsh'], { env: { FWCARD_BOARDS: NO_USER_BOARDS } }).stdout);
    const t = new Tmux('zsh -f', { cwd: files, env: { PS1: '$ ' } });
    try {
      t.type(`PS1='> '; autoload -U compinit && compinit -u -D && source ${zfile} && echo sourced`);
      t.keys('Enter');
      await t.waitFor(/^sourced$/m);
      const line = async (text: string, want: RegExp) => {
        t.keys('C-u');
        t.type(text);
        t.keys('Tab');
        const screen = await t.waitFor(want);
        t.keys('C-u');
        return screen;
      };
      await line('fwcard flash-sd', /> fwcard flash-sdcard$/m);
      await line('fwcard prepare card.img --fs au', /> fwcard prepare card\.img --fs auto$/m);
      await line('fwcard doctor --board creality-ender3-s1-f4', /> fwcard doctor --board creality-ender3-s1-f401$/m);
      await line('fwcard inspect out/kl', /> fwcard inspect out\/klipper\.bin$/m);
    } finally {
      t.kill();
    }
  });
});

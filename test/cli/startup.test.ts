import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandNames, commandsNeeded } from '../../src/cli/commands/index.js';
import { addCommonOptions, parseCommon } from '../../src/cli/options.js';

const SRC = resolve(__dirname, '../../src');

/**
 * The modules loaded before any action runs: everything main.ts reaches by static,
 * value (not `import type`) imports. Dynamic `await import()` inside actions is not followed.
 */
function eagerGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  const pattern = /^\s*(import|export)\s+(type\s+)?[^;'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(pattern)) {
      if (m[2]) continue; // import type: erased at build
      const spec = m[3] ?? m[4]!;
      if (spec.startsWith('.')) todo.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  }
  return { files: [...files].map((f) => relative(SRC, f)).sort(), packages: [...packages].sort() };
}

const COMMANDS = ['prepare', 'drives', 'boards', 'inspect', 'mcu-info', 'simulate', 'check', 'flash-sdcard', 'doctor', 'scan', 'completion'];
const lightPackages = (g: { packages: string[] }): string[] => g.packages.filter((p) => !p.startsWith('node:') && p !== 'commander');
const deepFiles = (g: { files: string[] }): string[] => g.files.filter((f) => /^(flows|fat|klipper|sdcard|sim|transport|disk|adapters)\//.test(f));

describe('start-up: what is loaded before an action runs', () => {
  it('main loads commander and the command table, no command module and no heavy package', () => {
    const graph = eagerGraph(join(SRC, 'cli/main.ts'));
    expect(lightPackages(graph)).toEqual([]);
    expect(deepFiles(graph)).toEqual([]);
    expect(graph.files).toContain('cli/commands/index.ts');
    expect(graph.files.filter((f) => f.startsWith('cli/commands/') && f !== 'cli/commands/index.ts')).toEqual([]);
    // the walk sees a package import where there is one
    expect(eagerGraph(join(SRC, 'cli/interactive/board-picker.ts')).packages).toContain('@inquirer/prompts');
  });

  it('a command module loads no flow, FAT, protocol or simulator code and no heavy package (ora, @inquirer/prompts, serialport, drivelist, js-fatfs) until it runs', () => {
    for (const name of COMMANDS) {
      const graph = eagerGraph(join(SRC, `cli/commands/${name}.ts`));
      expect(lightPackages(graph), name).toEqual([]);
      expect(deepFiles(graph), name).toEqual([]);
    }
  });

  it('loads only the command named on the command line; none for --version; all for help, a typo and completion', () => {
    expect(commandsNeeded(['prepare', 'card.img', '--board', 'x'])).toEqual(['prepare']);
    expect(commandsNeeded(['--version'])).toEqual([]);
    expect(commandsNeeded(['-V'])).toEqual([]);
    expect(commandsNeeded([])).toEqual(commandNames);
    expect(commandsNeeded(['--help'])).toEqual(commandNames);
    expect(commandsNeeded(['help', 'prepare'])).toEqual(commandNames);
    expect(commandsNeeded(['prepar'])).toEqual(commandNames);
    expect(commandsNeeded(['completion', 'bash'])).toEqual(commandNames);
    expect(commandNames).toEqual(COMMANDS);
  });
});

describe('common options', () => {
  it('are declared by one helper, in one order, with a command\'s own wording where given', () => {
    const cmd = addCommonOptions(new Command('x'), { boardsFile: true, json: true, quiet: 'print nothing', color: true, verbose: 'trace', log: true });
    expect(cmd.options.map((o) => o.flags)).toEqual(['--boards-file <file>', '--json', '-q, --quiet', '--no-color', '-v, --verbose', '--log <file>']);
    expect(cmd.options.find((o) => o.long === '--quiet')!.description).toBe('print nothing');
    expect(addCommonOptions(new Command('y'), { json: true }).options.map((o) => o.long)).toEqual(['--json']);
  });

  it('parse into one typed object, absent flags as their defaults', () => {
    expect(parseCommon({})).toEqual({ json: false, quiet: false, verbose: false, color: true, log: undefined, boardsFile: undefined });
    expect(parseCommon({ json: true, quiet: true, verbose: true, color: false, log: 'f.log', boardsFile: 'b.json' })).toEqual({ json: true, quiet: true, verbose: true, color: false, log: 'f.log', boardsFile: 'b.json' });
  });

  it('are not declared by hand in a command file', () => {
    const dir = join(SRC, 'cli/commands');
    for (const name of ['prepare', 'check', 'doctor', 'scan', 'flash-sdcard', 'boards', 'inspect', 'drives', 'mcu-info', 'simulate', 'completion']) {
      const text = readFileSync(join(dir, `${name}.ts`), 'utf8');
      expect(text, name).not.toMatch(/\.option\(\s*'(--json|--boards-file|-q, --quiet|--no-color|-v, --verbose|--log)\b/);
      expect(text, name).toMatch(/addCommonOptions\(/);
    }
  });
});

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { commandNames, commandsNeeded, loadCommands } from './commands/index.js';
import { Output, reportError } from './output.js';
import { UsageError } from '../errors.js';

/** The package's version, from its package.json (dist/cli/main.js → ../../package.json). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();

/**
 * Build the commander program. Each command lives in its own file under cli/commands and
 * exports a `register(program)`; the action handlers call flows and render results. Given the
 * command line, only the commands it needs are loaded and registered; without, all of them.
 */
export async function buildProgram(argv?: string[]): Promise<Command> {
  const program = new Command('fwcard')
    .description('Get firmware onto 3D-printer controller boards through their microSD card.')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .exitOverride();
  for (const register of await loadCommands(argv ? commandsNeeded(argv.slice(2)) : commandNames)) register(program);
  return program;
}

/** Run the CLI and return the exit code. */
export async function main(argv: string[]): Promise<number> {
  // `fwcard boards | head`: the reader went away; that is not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander; usage mistakes exit 2 like our UsageError.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      // commander already told the human on stderr; a --json caller still gets its one document.
      if (argv.includes('--json')) {
        const message = e.message.replace(/^error: /, '');
        return reportError(new UsageError('usage', message, { hint: 'See `fwcard <command> --help` for the arguments and flags.', details: { commander: e.code } }), new Output({ json: true }));
      }
      return 2;
    }
    const json = argv.includes('--json');
    return reportError(e, new Output({ json }));
  }
}

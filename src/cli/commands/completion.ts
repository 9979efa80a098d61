import { Argument, type Command } from 'commander';
import { action } from '../action.js';
import { addCommonOptions, boardsFileOf, parseCommon, type CommonOptions, type RawOptions } from '../options.js';

interface CompletionOptions {
  shell: 'bash' | 'zsh';
  common: CommonOptions;
}

const parse = ([shell]: ['bash' | 'zsh'], raw: RawOptions): CompletionOptions => ({ shell, common: parseCommon(raw) });

export function register(program: Command): void {
  const run = async (o: CompletionOptions): Promise<void> => {
    const [{ loadCatalog }, { completionModel }, { bashScript }, { zshScript }] = await Promise.all([
      import('../../boards/catalog.js'),
      import('../completion/model.js'),
      import('../completion/bash.js'),
      import('../completion/zsh.js'),
    ]);
    const boards = loadCatalog(boardsFileOf(o.common)).all().flatMap((b) => [b.name, ...b.aliases]);
    // The script describes this very program: its commands and flags as registered.
    const model = completionModel(program, boards);
    process.stdout.write(o.shell === 'bash' ? bashScript(model) : zshScript(model));
  };
  const cmd = program
    .command('completion')
    .description('Print the shell completion script for bash or zsh (commands, flags, board names, files).')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']));
  addCommonOptions(cmd, { boardsFile: 'also complete the board names of this boards file' })
    .addHelpText('after', `
The board names are those known when the script is made (with your boards file): make it again
after adding boards.

Examples:
  fwcard completion bash > ~/.local/share/bash-completion/completions/fwcard
  source <(fwcard completion bash)                  # in ~/.bashrc
  fwcard completion zsh > "\${fpath[1]}/_fwcard"     # then open a new shell`)
    .action(action(parse, run));
}

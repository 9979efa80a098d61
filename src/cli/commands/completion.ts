import { Argument, type Command } from 'commander';
import { loadCatalog } from '../../boards/catalog.js';
import { bashScript } from '../completion/bash.js';
import { completionModel } from '../completion/model.js';
import { zshScript } from '../completion/zsh.js';
import { Output, reportError } from '../output.js';

export function register(program: Command): void {
  program
    .command('completion')
    .description('Print the shell completion script for bash or zsh (commands, flags, board names, files).')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .option('--boards-file <file>', 'also complete the board names of this boards file')
    .addHelpText('after', `
The board names are those known when the script is made (with your boards file): make it again
after adding boards.

Examples:
  fwcard completion bash > ~/.local/share/bash-completion/completions/fwcard
  source <(fwcard completion bash)                  # in ~/.bashrc
  fwcard completion zsh > "\${fpath[1]}/_fwcard"     # then open a new shell`)
    .action((shell: 'bash' | 'zsh', o: { boardsFile?: string }) => {
      const out = new Output({});
      try {
        const boards = loadCatalog(o.boardsFile ? { boardsFile: o.boardsFile } : {}).all().flatMap((b) => [b.name, ...b.aliases]);
        const model = completionModel(program, boards);
        process.stdout.write(shell === 'bash' ? bashScript(model) : zshScript(model));
      } catch (e) {
        process.exitCode = reportError(e, out);
      }
    });
}

/**
 * What shell completion needs to know about the program, read off the commander objects so the
 * scripts follow the commands as they change: each command's options (and which take a value,
 * of what kind) and positional arguments. Pure: program and board names in, data out.
 */
import type { Argument, Command, Option } from 'commander';

/** What a value is completed from: fixed words, board names, file names, or nothing (free text). */
export type ValueKind = { kind: 'choices'; words: string[] } | { kind: 'boards' } | { kind: 'files' } | { kind: 'none' };

export interface OptionSpec {
  /** Every spelling: ["-y", "--yes"]. */
  names: string[];
  description: string;
  /** null: a flag without a value. */
  value: ValueKind | null;
}

export interface ArgumentSpec {
  name: string;
  variadic: boolean;
  value: ValueKind;
}

export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  args: ArgumentSpec[];
}

export interface CompletionModel {
  program: string;
  commands: CommandSpec[];
  boards: string[];
}

// Placeholders that name a path: <file>, <firmware>, <dictionary>, <image>, <target>, <path>.
const PATH_PLACEHOLDER = /^(file|firmware|dictionary|image|target|path|targets|device)$/;

function optionValue(o: Option): ValueKind | null {
  if (!o.required && !o.optional) return null;
  if (o.argChoices?.length) return { kind: 'choices', words: [...o.argChoices] };
  if (o.long === '--board') return { kind: 'boards' };
  const placeholder = /[<[]([\w-]+)(\.\.\.)?[>\]]/.exec(o.flags)?.[1] ?? '';
  return PATH_PLACEHOLDER.test(placeholder) ? { kind: 'files' } : { kind: 'none' };
}

function argumentValue(a: Argument): ValueKind {
  if (a.argChoices?.length) return { kind: 'choices', words: [...a.argChoices] };
  // `boards [query...]` searches board names; flash-sdcard's second argument is a board.
  if (a.name() === 'board' || a.name() === 'query') return { kind: 'boards' };
  return { kind: 'files' };
}

export function completionModel(program: Command, boards: string[]): CompletionModel {
  const commands = program.commands
    .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
    .map(
      (c): CommandSpec => ({
        name: c.name(),
        description: c.description().split(/(?<=\.)\s/)[0]!,
        options: [
          ...c.options
            .filter((o) => !o.hidden)
            .map((o) => ({ names: [o.short, o.long].filter((n): n is string => !!n), description: o.description, value: optionValue(o) })),
          { names: ['-h', '--help'], description: 'show help for the command', value: null },
        ],
        args: c.registeredArguments.map((a) => ({ name: a.name(), variadic: a.variadic, value: argumentValue(a) })),
      }),
    );
  return { program: program.name(), commands, boards: [...new Set(boards)].sort() };
}

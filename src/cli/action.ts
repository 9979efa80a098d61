import { parseCommon, type CommonOptions, type RawOptions } from './options.js';
import { Output, reportError } from './output.js';

/**
 * The shape of every command's action: commander's values → one typed parse → run (call the
 * flow, render its result). `run` may return the exit code. A thrown error — from the parse or
 * the flow — is rendered once, as text or as the one --json document, and sets the exit code.
 *
 * Commands import their flows inside `run` (`await import(...)`), so that `fwcard --version`
 * or `fwcard boards` does not load the FAT engine, the serial stack or the simulator.
 */
export function action<A extends unknown[], T extends { common: CommonOptions }>(
  parse: (args: A, raw: RawOptions) => T,
  run: (o: T, out: Output) => Promise<number | void> | number | void,
): (...params: unknown[]) => Promise<void> {
  return async (...params) => {
    // commander calls (...arguments, options, command).
    const raw = params[params.length - 2] as RawOptions;
    const out = new Output(parseCommon(raw));
    try {
      const code = await run(parse(params.slice(0, -2) as A, raw), out);
      if (typeof code === 'number') process.exitCode = code;
    } catch (e) {
      process.exitCode = reportError(e, out);
    }
  };
}

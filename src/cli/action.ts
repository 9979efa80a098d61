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

/**
 * Ctrl-C during a long job that must not be cut anywhere (flash-sdcard): the first press aborts
 * the returned signal — the flow stops at its next safe point and its error says what it left —
 * and the second exits at once with 130. Without this, SIGINT's default would end the process
 * inside whatever it was writing. `dispose` puts the default back.
 */
export function stopOnCtrlC(words: { first: string; second: string }): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (!controller.signal.aborted) {
      process.stderr.write(`\n${words.first}\n`);
      controller.abort();
      return;
    }
    process.stderr.write(`\n${words.second}\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  // While a spinner turns, ora puts a terminal's stdin in raw mode: Ctrl-C is then a byte, not a
  // signal, and its stdin discarder turns that byte back into SIGINT only when stdin flows —
  // which it never made it do (so Ctrl-C was ignored). Keep stdin flowing while we listen.
  const stdin = process.stdin.isTTY ? process.stdin : null;
  const discard = (): void => undefined;
  stdin?.on('data', discard);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSigint);
      stdin?.off('data', discard);
      // A paused stdin no longer keeps the process alive.
      stdin?.pause();
    },
  };
}

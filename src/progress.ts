/**
 * Typed progress events. Library code emits them through an optional callback; only the CLI
 * renders them (spinner, progress line with bytes/s and ETA, or nothing under --json).
 */
export type Phase =
  | 'inspect'
  | 'partition'
  | 'format'
  | 'write'
  | 'verify'
  | 'flush'
  | 'connect'
  | 'identify'
  | 'reset'
  | 'card-init'
  | 'mount'
  | 'upload'
  | 'check';

export interface ProgressEvent {
  phase: Phase;
  /** Short human description of the step. */
  label: string;
  /** Bytes done so far in this phase (absent for phases without a byte count). */
  bytes?: number;
  /** Bytes this phase will handle in all. */
  total?: number;
  /** true on the last event of a phase. */
  done?: boolean;
}

export type ProgressListener = (e: ProgressEvent) => void;

export const noProgress: ProgressListener = () => {};

/**
 * The debug trace behind --verbose / --log: library code never prints, it calls its Trace with a
 * namespace ('klipper', 'sdcard:spi', 'flash-sdcard', …) and a message; only cli/ decides where
 * the lines go (cli/trace.ts writes them as `namespace: message`).
 *
 * One type for every layer. There were two once, `(line)` and `(namespace, message)`, and since
 * a function of one parameter type-checks where one of two is expected, every SD-driver line
 * reached --log as just "sdcard:spi". So a Trace is branded: a bare lambda is not one, it has to
 * go through `traceTo`, whose parameter types say what the two arguments are.
 */
declare const traceBrand: unique symbol;
export type Trace = ((namespace: string, message: string) => void) & { readonly [traceBrand]: true };

/** The Trace that hands each line to `sink`. */
export function traceTo(sink: (namespace: string, message: string) => void): Trace {
  return sink as Trace;
}

export const noTrace: Trace = traceTo(() => {});

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

/** Debug trace for --verbose / --log: library code never prints, it calls this. */
export type TraceListener = (namespace: string, message: string) => void;
export const noTrace: TraceListener = () => {};

import { appendFileSync } from 'node:fs';

/**
 * The --verbose / --log trace: library code hands lines to a callback (it never prints); here
 * they go to stderr (--verbose) and/or are appended to a file with timestamps (--log), for bug
 * reports.
 */
export interface TraceOptions {
  verbose?: boolean;
  log?: string;
}

export type Trace = (line: string) => void;

export function makeTrace(o: TraceOptions): Trace | undefined {
  if (!o.verbose && !o.log) return undefined;
  if (o.log) appendFileSync(o.log, `# fwcard ${process.argv.slice(2).join(' ')} (${new Date().toISOString()})\n`);
  return (line: string) => {
    if (o.verbose) process.stderr.write(`[trace] ${line}\n`);
    if (o.log) appendFileSync(o.log, `${new Date().toISOString()} ${line}\n`);
  };
}

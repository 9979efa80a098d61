import { appendFileSync } from 'node:fs';
import { traceTo, type Trace } from '../progress.js';

/**
 * The --verbose / --log trace: library code hands namespaced lines to a Trace (it never prints);
 * here they go to stderr (--verbose) and/or are appended to a file with timestamps (--log), for
 * bug reports, each as `namespace: message`.
 */
export interface TraceOptions {
  verbose?: boolean;
  log?: string;
}

export function makeTrace(o: TraceOptions): Trace | undefined {
  if (!o.verbose && !o.log) return undefined;
  if (o.log) appendFileSync(o.log, `# fwcard ${process.argv.slice(2).join(' ')} (${new Date().toISOString()})\n`);
  return traceTo((namespace, message) => {
    const line = `${namespace}: ${message}`;
    if (o.verbose) process.stderr.write(`[trace] ${line}\n`);
    if (o.log) appendFileSync(o.log, `${new Date().toISOString()} ${line}\n`);
  });
}

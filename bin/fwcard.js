#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and built into dist/ by `npm run build`, which
// also bundles it into dist/bundle/ (scripts/bundle-cli.js: fewer modules to load, a faster
// start). The bundle is used when it is at least as new as tsc's output; after a bare `tsc`
// (which rewrites every file of dist/), tsc's modules run, never a stale bundle.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;
const built = mtime(join(dist, 'cli', 'main.js'));
if (built === undefined) {
  process.stderr.write('fwcard: dist/ is missing. Run `npm run build` first (or install the published package).\n');
  process.exit(2);
}
const entry = (mtime(join(dist, 'bundle', 'main.js')) ?? -Infinity) >= built ? join(dist, 'bundle', 'main.js') : join(dist, 'cli', 'main.js');
const { main } = await import(entry);
process.exitCode = await main(process.argv);

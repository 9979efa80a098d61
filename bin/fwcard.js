#!/usr/bin/env node
// Thin launcher, CommonJS (bin/package.json says so): the CLI is written in TypeScript, built into
// dist/ by `npm run build`, which also bundles it into dist/bundle/ (bin/bundle-cli.mjs: a few
// CommonJS files instead of ~85 ES modules, a faster start). The bundle runs when it is at least
// as new as tsc's output; after a bare `tsc` (which rewrites every file of dist/), tsc's modules
// run, never a stale bundle.
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const dist = join(__dirname, '..', 'dist');
const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs;
const built = mtime(join(dist, 'cli', 'main.js'));
if (built === undefined) {
  process.stderr.write('fwcard: dist/ is missing. Run `npm run build` first (or install the published package).\n');
  process.exit(2);
}
const bundle = join(dist, 'bundle', 'main.cjs');
const cli = (mtime(bundle) ?? -Infinity) >= built ? Promise.resolve(require(bundle)) : import(pathToFileURL(join(dist, 'cli', 'main.js')).href);
cli.then((m) => m.main(process.argv)).then((code) => {
  process.exitCode = code;
});

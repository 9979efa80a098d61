#!/usr/bin/env node
// Thin launcher: the CLI is written in TypeScript and built into dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, '..', 'dist', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('fwcard: dist/ is missing. Run `npm run build` first (or install the published package).\n');
  process.exit(2);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv);

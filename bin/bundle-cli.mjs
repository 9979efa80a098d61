#!/usr/bin/env node
// Bundle the built CLI (dist/cli/main.js, from tsc) into a few CommonJS files in dist/bundle/,
// which bin/fwcard.js runs when they are at least as new as dist/cli/main.js. Why (issue 13):
// Node 20 loads each ES module with an asynchronous read, a resolution and a link of its own,
// and `prepare` reached ~85 of them. Measured as whole processes in turn (median CPU, user+sys,
// of `prepare` of a 4 GiB image on a loaded 2-core machine): tsc's modules 380 ms, the same
// code as 3 ES module chunks 300-370 ms, as CommonJS chunks under a CommonJS launcher 300 ms
// (`node -e 0`: 140-150 ms). tsc's dist/ stays what the library (dist/index.js) and tests use.
//
// The chunks:
//   main.cjs     the entry: cli/main.ts and what it imports statically (commander, output,
//                errors, the command table): all that `fwcard --version` loads;
//   prepare.cjs  everything `fwcard prepare` loads on every run: the command, its argument
//                completion and the flow with its FAT, disk, firmware and board modules;
//   the rest     rolldown's automatic chunks, one boundary per dynamic import as in the source,
//                so the other commands and the heavy packages stay lazy as they are now.
// External: js-fatfs (its .wasm is found next to its own module), and the packages that are
// only ever imported lazily (ora, @inquirer/prompts, serialport, drivelist).
// fat-worker.js: the FatFs worker thread, started by path from fat/remote-volume.ts (next to the
// module that starts it), runs tsc's unbundled dist/fat/fat-worker.js.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bundle');

/** The modules main.cjs holds: the entry and its static imports (rolldown keeps them together). */
const MAIN = 'cli/main.js';
/** The modules whose static imports, followed (short of main's), make up prepare.cjs. */
const PREPARE = ['cli/commands/prepare.js', 'cli/interactive/prepare-args.js', 'flows/prepare.js'];
/** Filled at the end of the build, from rolldown's module graph. */
const prepareChunk = new Set();

const prepareGroup = {
  name: 'fwcard-prepare-chunk',
  buildEnd() {
    const closure = (entries, into, stop = new Set()) => {
      const todo = entries.map((e) => join(dist, e));
      while (todo.length) {
        const id = todo.pop();
        if (into.has(id) || stop.has(id)) continue;
        const info = this.getModuleInfo(id);
        if (!info) throw new Error(`bundle: ${id} is not in the module graph`);
        if (info.isExternal) continue;
        into.add(id);
        todo.push(...info.importedIds);
      }
      return into;
    };
    closure(PREPARE, prepareChunk, closure([MAIN], new Set()));
  },
};

rmSync(out, { recursive: true, force: true });
await build({
  input: { main: join(dist, 'cli', 'main.js') },
  platform: 'node',
  external: [/^node:/, 'js-fatfs', 'ora', /^@inquirer\//, 'serialport', /^@serialport\//, 'drivelist'],
  plugins: [prepareGroup],
  // main.cjs also exports what the chunks share with it.
  preserveEntrySignatures: 'allow-extension',
  // A module imported both ways (the catalog) stays where its static importers put it: expected.
  onLog: (level, log, handler) => (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT' ? undefined : handler(level, log)),
  output: {
    dir: out,
    // CommonJS: Node 20 loads it synchronously. Imports between chunks become require(); the
    // external packages keep import() where the source has it, so the ESM-only ones (ora,
    // js-fatfs) load on any Node 20, and @inquirer/prompts ships a CommonJS build.
    format: 'cjs',
    strict: true,
    dynamicImportInCjs: true,
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name].cjs',
    // Only the modules listed: prepare's imports of main's modules stay imports of main.cjs.
    codeSplitting: { groups: [{ name: 'prepare', test: (id) => prepareChunk.has(id), includeDependenciesRecursively: false }] },
  },
});
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'fat-worker.js'), "// The FatFs worker thread: tsc's build of src/fat/fat-worker.ts (see bin/bundle-cli.mjs).\nimport '../fat/fat-worker.js';\n");

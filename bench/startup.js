#!/usr/bin/env node
// Benchmark: start-up, what every fwcard invocation pays before it does anything.
// `fwcard --version` against a bare `node -e 0`, both whole processes, measured in turn round by
// round (which one goes first alternates) so that the load of the machine hits both alike.
// Prints the medians and the ratio; issue 13 wants ≤ 1.6×. (bench/run.js has prepare against
// sfdisk + mkfs.fat + mcopy + read-back, also as whole processes in turn.)
// Usage: node bench/startup.js [--json] [--rounds 21]
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'fwcard.js');
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`Usage: node bench/startup.js [--json] [--rounds N]

Start-up: \`fwcard --version\` against a bare \`node -e 0\`, both whole processes, in turn round
by round. Prints the medians and the ratio (target: at most 1.6). Needs dist/ (npm run build).

Options:
  --json        one JSON document on stdout
  --rounds N    rounds, each running both once (default 21)
  -h, --help    print this help and exit`);
  process.exit(0);
}
const json = args.includes('--json');
const i = args.indexOf('--rounds');
const rounds = Number(i >= 0 ? args[i + 1] : '21');

/** Run one whole process; its wall time in ms. */
function timed(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`benchmark step failed (${r.status}): node ${argv.join(' ')}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const fwcardArgs = [cli, '--version'];
const nodeArgs = ['-e', '0'];
// One untimed run of each: the file cache, not the disk, is what is compared.
timed(nodeArgs);
timed(fwcardArgs);
const fwcard = [], node = [];
for (let r = 0; r < rounds; r++) {
  if (r % 2) {
    node.push(timed(nodeArgs));
    fwcard.push(timed(fwcardArgs));
  } else {
    fwcard.push(timed(fwcardArgs));
    node.push(timed(nodeArgs));
  }
}
const doc = { benchmark: 'start-up', rounds, fwcardVersionMs: median(fwcard), nodeMs: median(node), target: 1.6 };
doc.ratio = doc.fwcardVersionMs / doc.nodeMs;
if (json) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
else console.log(`start-up (whole processes in turn, median of ${rounds}): fwcard --version ${doc.fwcardVersionMs.toFixed(0)} ms, node -e 0 ${doc.nodeMs.toFixed(0)} ms: ${doc.ratio.toFixed(2)}× (target ≤ ${doc.target}×)`);

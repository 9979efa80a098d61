// Runs the drive picker of the built CLI on the drives given as JSON (this host has no
// removable drives to offer), and prints what was picked. Driven through tmux by interactive.test.ts.
import { pickDrive } from '../../dist/cli/interactive/drive-picker.js';

const drives = JSON.parse(process.argv[2]);
try {
  process.stdout.write(`PICKED ${await pickDrive(drives)}\n`);
} catch (e) {
  process.stdout.write(`FAILED ${e.name} ${e.code ?? ''} ${e.message}\n`);
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// flash-sdcard keeps a record of each card update on the host, one file per card (its CID).
// Simulated cards share a CID: each test file gets its own state directory, so a run in one file
// never finds another file's record (and nothing lands in the home directory of the machine).
const dir = mkdtempSync(join(tmpdir(), 'fwcard-state-test-'));
process.env.FWCARD_STATE_DIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/state-dir.ts'],
    // Tests spawn real tools (fsck.fat, mtools, sfdisk, socat, losetup): give them room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Loop-device and pty tests must not race each other for the same resources.
    fileParallelism: true,
    pool: 'forks',
  },
});

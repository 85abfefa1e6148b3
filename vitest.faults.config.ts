import { defineConfig } from 'vitest/config';

/** The fault suite: a three-node Cassandra cluster on 127.0.0.1-3, nodes stopped and started under load. */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    setupFiles: ['test/support/worker-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});

/**
 * The freeze/thaw fault test on the single local node, beside other runs (the fault suite's own three-node
 * cluster needs 127.0.0.1:9042 to itself): the integration project's global setup starts or reuses the
 * node and gives the test a keyspace and schema of its own. Run from the repository root (paths are relative
 * to it, as in vitest.config.ts), with KEEP_STORES=1 to leave the node up.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/faults/freeze-thaw.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/worker-setup.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});

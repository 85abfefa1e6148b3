import { defineConfig } from 'vitest/config';

/** Test workers; each gets its own keyspace and PostgreSQL schema, created once per run by the global setup. */
export const TEST_WORKERS = 2;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suite needs its own three-node cluster: npm run test:faults.
    exclude: ['test/faults/**', 'node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/worker-setup.ts'],
    pool: 'forks',
    maxWorkers: TEST_WORKERS,
    testTimeout: 30_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
});

import { defineConfig } from 'vitest/config';

/** Integration test workers; each gets its own keyspace and PostgreSQL schema, created once per run. */
export const TEST_WORKERS = 2;

/**
 * Four projects. `unit` touches no store and has no global setup, so it runs in seconds on a fresh clone;
 * `integration` runs against real stores (a local Cassandra node, PostgreSQL, Redis); `infra` synthesises
 * the CDK stack and runs its assertions and cdk-nag; `faults` stops and starts nodes of a three-node
 * cluster of its own. `npm test` runs the first three; `npm run test:faults` the last.
 */
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          setupFiles: ['test/support/worker-setup.ts'],
          pool: 'forks',
          maxWorkers: TEST_WORKERS,
          testTimeout: 30_000,
          hookTimeout: 240_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          setupFiles: ['test/support/placeholder-settings.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          globalSetup: ['test/faults/global-setup.ts'],
          setupFiles: ['test/support/worker-setup.ts'],
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});

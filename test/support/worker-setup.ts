/** In each test worker: point the service's configuration at this worker's keyspace and schema. */
import { inject } from 'vitest';
import { loadConfig } from '../../lib/config.js';
import { TEST_WEBHOOK_SECRET } from './constants.js';

const worker = Number(process.env.VITEST_POOL_ID ?? '1');
const names = inject('workerNamespaces')[worker - 1];
if (!names) throw new Error(`No namespace for test worker ${worker}; raise TEST_WORKERS in vitest.config.ts`);
Object.assign(process.env, inject('stores'), {
  SCYLLA_KEYSPACE: names.keyspace,
  DATABASE_SCHEMA: names.schema,
  TELEGRAM_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  // The reconciler waits this long to confirm a drift before repairing it; tests need no more.
  RECONCILER_SETTLE_MS: '200',
  // A deleted channel's purge waits this long (120 s by default, for writes in flight); tests need none.
  PURGE_DELAY_SECONDS: '0',
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'ERROR',
  // Suites hammer writes from one user; the limit itself is tested with its own low setting.
  RATE_LIMIT_WRITES: '100000',
  RATE_LIMIT_READS: '100000',
  // EMF records on stdout would bury the test output; tests that read metrics turn them on.
  METRICS_ENABLED: 'false',
  // One process, one clock: the changes feed needs no skew allowance here, so it settles after the write
  // deadline alone (1 s) and tests wait that long, not 2 s. The property test sets its own skews.
  CHANGES_CLOCK_SKEW_MS: '0',
});
loadConfig();

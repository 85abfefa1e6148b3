/**
 * The stores every bench script runs against: the local stores the tests use (started or reused), a keyspace
 * and schema of its own, migrated, and settings for a bench (one user writes thousands of messages: the rate
 * limits are still checked on every call, never reached). `teardown` drops the namespace and stops what it
 * started (the CQL node stays up with KEEP_STORES=1).
 */
import { loadConfig } from '../../lib/config.js';
import { closePostgres } from '../../lib/postgres/pool.js';
import { closeScylla } from '../../lib/scylla/client.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { startLocalStores } from '../../infra/local/stores.js';
import { dropNamespaces, uniqueName } from '../support/namespaces.js';

export async function benchStores(log: (line: string) => void) {
  const stores = await startLocalStores({ log });
  const namespace = uniqueName('bench');
  Object.assign(process.env, stores.env, {
    SCYLLA_KEYSPACE: namespace,
    DATABASE_SCHEMA: namespace,
    TELEGRAM_WEBHOOK_SECRET: 'bench-secret',
    LOG_LEVEL: 'ERROR',
    RATE_LIMIT_WRITES: '1000000',
    RATE_LIMIT_READS: '1000000',
  });
  await migrateAll(loadConfig(), () => undefined);
  return {
    stores,
    namespace,
    teardown: async (): Promise<void> => {
      await closeScylla().catch(() => undefined);
      await closePostgres().catch(() => undefined);
      await dropNamespaces({ ...process.env }, (name) => name === namespace).catch(() => undefined);
      await stores.stop({ keepCql: process.env.KEEP_STORES === '1' });
    },
  };
}

/** In each test worker: point the service's configuration at this worker's keyspace and schema. */
import { inject } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';
import { workerNamespace } from './namespaces.js';

const worker = Number(process.env.VITEST_POOL_ID ?? '1');
const names = workerNamespace(worker);
Object.assign(process.env, inject('stores'), {
  SCYLLA_KEYSPACE: names.keyspace,
  DATABASE_SCHEMA: names.schema,
});
resetConfigForTests();

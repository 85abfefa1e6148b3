/** In each test worker: point the service's configuration at this worker's keyspace and schema. */
import { inject } from 'vitest';
import { resetConfigForTests } from '../../lib/config.js';

const worker = Number(process.env.VITEST_POOL_ID ?? '1');
const names = inject('workerNamespaces')[worker - 1];
if (!names) throw new Error(`No namespace for test worker ${worker}; raise TEST_WORKERS in vitest.config.ts`);
Object.assign(process.env, inject('stores'), { SCYLLA_KEYSPACE: names.keyspace, DATABASE_SCHEMA: names.schema });
resetConfigForTests();

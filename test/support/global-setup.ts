/**
 * Once per test run: bring up (or reuse) the real stores, then give each test worker a fresh keyspace and
 * PostgreSQL schema with every migration applied. Workers read them through `inject('stores')`.
 */
import type { TestProject } from 'vitest/node';
import { parseConfig } from '../../lib/config.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { publicJwks } from '../../infra/local/jwt.js';
import { startLocalStores, type LocalStores } from '../../infra/local/stores.js';
import { TEST_WORKERS } from '../../vitest.config.js';
import { dropNamespaces, workerNamespaces } from './namespaces.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stores: Record<string, string>;
    workerNamespaces: { keyspace: string; schema: string }[];
  }
}

let stores: LocalStores | undefined;
let namespaces: { keyspace: string; schema: string }[] = [];

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  stores = await startLocalStores({ log: (line) => console.error(line) });
  // Create the local signing key before the workers start minting tokens.
  await publicJwks();
  const env = { ...process.env, ...stores.env };
  await dropNamespaces(env);
  namespaces = workerNamespaces(TEST_WORKERS);
  for (const names of namespaces) {
    await migrateAll(parseConfig({ ...env, SCYLLA_KEYSPACE: names.keyspace, DATABASE_SCHEMA: names.schema }), () => undefined);
  }
  console.error(`global-setup: stores ready (${stores.cql.kind}) in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  project.provide('stores', stores.env);
  project.provide('workerNamespaces', namespaces);
}

export async function teardown(): Promise<void> {
  if (stores) {
    const own = new Set(namespaces.flatMap((names) => [names.keyspace, names.schema]));
    await dropNamespaces({ ...process.env, ...stores.env }, (name) => own.has(name)).catch(() => undefined);
  }
  // A developer can keep the node up between runs with KEEP_STORES=1; CI always stops what it started.
  await stores?.stop({ keepCql: process.env.KEEP_STORES === '1' });
}

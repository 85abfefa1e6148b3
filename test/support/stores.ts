/** Helpers for tests that need their own fresh namespace or a direct store client. */
import cassandra from 'cassandra-driver';
import pg from 'pg';
import { getConfig, parseConfig, type Config } from '../../lib/config.js';
export { uniqueName as uniqueNamespace } from './namespaces.js';

/** This worker's configuration with another keyspace and schema. */
export function configFor(namespace: string, overrides: Record<string, string> = {}): Config {
  return parseConfig({ ...process.env, SCYLLA_KEYSPACE: namespace, DATABASE_SCHEMA: namespace, ...overrides });
}

export async function withCql<T>(fn: (client: cassandra.Client) => Promise<T>): Promise<T> {
  const config = getConfig().scylla;
  const client = new cassandra.Client({
    contactPoints: config.contactPoints,
    protocolOptions: { port: config.port },
    localDataCenter: config.localDataCenter,
    socketOptions: { readTimeout: 30_000 },
  });
  try {
    return await fn(client);
  } finally {
    await client.shutdown();
  }
}

export async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: getConfig().postgres.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropNamespace(namespace: string): Promise<void> {
  await withCql((client) => client.execute(`DROP KEYSPACE IF EXISTS ${namespace}`));
  await withPg((client) => client.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`));
}

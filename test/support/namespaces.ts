/** Per-worker keyspace and schema names, and the clean-up of earlier runs' leftovers. */
import cassandra from 'cassandra-driver';
import pg from 'pg';

export const TEST_PREFIX = 'test_';

export function workerNamespace(worker: number): { keyspace: string; schema: string } {
  return { keyspace: `${TEST_PREFIX}w${worker}`, schema: `${TEST_PREFIX}w${worker}` };
}

export async function dropTestNamespaces(env: Record<string, string | undefined>): Promise<void> {
  const client = new cassandra.Client({
    contactPoints: (env.SCYLLA_CONTACT_POINTS ?? '127.0.0.1').split(','),
    protocolOptions: { port: Number(env.SCYLLA_PORT ?? 9042) },
    localDataCenter: env.SCYLLA_LOCAL_DC ?? 'datacenter1',
    socketOptions: { readTimeout: 60_000 },
  });
  try {
    const result = await client.execute('SELECT keyspace_name FROM system_schema.keyspaces');
    for (const row of result.rows) {
      const name = row.get('keyspace_name') as string;
      if (name.startsWith(TEST_PREFIX)) await client.execute(`DROP KEYSPACE IF EXISTS ${name}`);
    }
  } finally {
    await client.shutdown();
  }
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%'",
    );
    for (const row of rows) await db.query(`DROP SCHEMA IF EXISTS ${row.nspname} CASCADE`);
  } finally {
    await db.end();
  }
}

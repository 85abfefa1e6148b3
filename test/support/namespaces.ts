/**
 * Keyspace and schema names for tests. Every name carries the minute it was made (`test_r<minute>_…`), so a
 * run can clear what crashed runs left behind without touching a run that is going on beside it.
 */
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import pg from 'pg';

const STALE_AFTER_MINUTES = 120;

function minuteTag(): string {
  return Math.floor(Date.now() / 60_000).toString(36);
}

export function uniqueName(label: string): string {
  return `test_r${minuteTag()}_${label}_${randomBytes(3).toString('hex')}`;
}

/** One keyspace and schema per test worker, shared by the files that worker runs. */
export function workerNamespaces(workers: number): { keyspace: string; schema: string }[] {
  const run = uniqueName('run');
  return Array.from({ length: workers }, (_, index) => ({ keyspace: `${run}_w${index + 1}`, schema: `${run}_w${index + 1}` }));
}

function isStale(name: string): boolean {
  const match = /^test_r([0-9a-z]+)_/.exec(name);
  if (!match) return name.startsWith('test_');
  return Date.now() / 60_000 - parseInt(match[1]!, 36) > STALE_AFTER_MINUTES;
}

export async function dropNamespaces(
  env: Record<string, string | undefined>,
  which: (name: string) => boolean = isStale,
): Promise<void> {
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
      if (name.startsWith('test_') && which(name)) await client.execute(`DROP KEYSPACE IF EXISTS ${name}`);
    }
  } finally {
    await client.shutdown();
  }
  const db = new pg.Client({ connectionString: env.DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%'");
    for (const row of rows) if (which(row.nspname)) await db.query(`DROP SCHEMA IF EXISTS ${row.nspname} CASCADE`);
  } finally {
    await db.end();
  }
}

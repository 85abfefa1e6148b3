/**
 * Applies `cql/scylla/*.cql` to the configured keyspace. Creates the keyspace (tablets off on ScyllaDB,
 * because tablets refuse counters; Cassandra rejects the option, so it is only added where supported),
 * takes a lightweight-transaction lock so two runners never apply the same file twice, and records each
 * applied file with its checksum.
 */
import { randomUUID } from 'node:crypto';
import type { Config, Replication } from '../config.js';
import { consistency, createScyllaClient, type ScyllaClient } from '../scylla/client.js';
import { loadMigrations, pendingMigrations, type MigrationReport } from './files.js';

const LOCK_TTL_SECONDS = 300;
const LOCK_WAIT_MS = 120_000;
const SCHEMA_AGREEMENT_WAIT_MS = 60_000;

function replicationMap(replication: Replication): string {
  if (replication.class === 'SimpleStrategy') {
    return `{'class': 'SimpleStrategy', 'replication_factor': ${replication.replication_factor}}`;
  }
  const dataCenters = Object.entries(replication.dataCenters)
    .map(([dc, factor]) => `'${dc}': ${factor}`)
    .join(', ');
  return `{'class': 'NetworkTopologyStrategy', ${dataCenters}}`;
}

async function tableExists(client: ScyllaClient, keyspace: string, table: string): Promise<boolean> {
  const result = await client.execute(
    'SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
    [keyspace, table],
    { prepare: true },
  );
  return result.rowLength > 0;
}

/** ScyllaDB with tablets support exposes system.tablets; Cassandra and older ScyllaDB do not. */
export async function supportsTablets(client: ScyllaClient): Promise<boolean> {
  return tableExists(client, 'system', 'tablets');
}

async function awaitSchemaAgreement(client: ScyllaClient): Promise<void> {
  const deadline = Date.now() + SCHEMA_AGREEMENT_WAIT_MS;
  while (Date.now() < deadline) {
    // Present in the driver's JavaScript API but missing from its type declarations.
    const metadata = client.metadata as typeof client.metadata & { checkSchemaAgreement(): Promise<boolean> };
    if (await metadata.checkSchemaAgreement()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Schema agreement not reached within ${SCHEMA_AGREEMENT_WAIT_MS / 1000}s`);
}

const ADD_COLUMN = /^ALTER\s+TABLE\s+\S+\s+ADD\s+(\w+)\s/i;

async function ddl(client: ScyllaClient, statement: string): Promise<void> {
  try {
    // DDL from the project's own files: nothing user-supplied, and schema statements are not worth preparing.
    await client.execute(statement, [], { prepare: false });
  } catch (error) {
    // ScyllaDB has no ADD IF NOT EXISTS: a re-run of a half-applied file finds the column there already.
    const column = ADD_COLUMN.exec(statement)?.[1];
    const message = (error as Error).message;
    if (!column || !/already exist|conflicts with an existing column/i.test(message)) throw error;
  }
  await awaitSchemaAgreement(client);
}

/**
 * Bootstrap DDL runs before the lock exists, so two runners may send it at once; on a busy cluster one of
 * them can see a transient schema error. Every bootstrap statement is IF NOT EXISTS, so retrying is safe.
 */
async function bootstrapDdl(client: ScyllaClient, statement: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ddl(client, statement);
      return;
    } catch (error) {
      if (attempt >= 4) throw error;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

async function acquireLock(client: ScyllaClient, owner: string, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  while (Date.now() < deadline) {
    const result = await client.execute(
      `INSERT INTO schema_migration_lock (name, owner, acquired_at) VALUES ('cql', ?, ?) IF NOT EXISTS USING TTL ${LOCK_TTL_SECONDS}`,
      [owner, new Date()],
      { prepare: true },
    );
    if (result.wasApplied()) return;
    if (!announced) {
      log(`cql: another runner (${String(result.first()?.get('owner'))}) holds the migration lock; waiting…`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`cql: could not take the migration lock within ${LOCK_WAIT_MS / 1000}s`);
}

async function releaseLock(client: ScyllaClient, owner: string): Promise<void> {
  await client.execute("DELETE FROM schema_migration_lock WHERE name = 'cql' IF owner = ?", [owner], { prepare: true });
}

async function renewLock(client: ScyllaClient, owner: string): Promise<void> {
  const result = await client.execute(
    `UPDATE schema_migration_lock USING TTL ${LOCK_TTL_SECONDS} SET acquired_at = ? WHERE name = 'cql' IF owner = ?`,
    [new Date(), owner],
    { prepare: true },
  );
  if (!result.wasApplied()) throw new Error('cql: lost the migration lock (it expired); stopping');
}

/** `instanceName` (the configuration's) names this runner in the lock, so a waiting runner can say who holds it. */
export async function migrateCql(
  config: Config['scylla'],
  instanceName: string,
  migrationsDir: string,
  log: (line: string) => void,
): Promise<MigrationReport> {
  const files = loadMigrations(`${migrationsDir}/scylla`, 'cql');
  const client = await createScyllaClient(config, { requestTimeoutMs: 30_000 });
  await client.connect();
  const keyspace = config.keyspace;
  const owner = `${instanceName}:${process.pid}:${randomUUID()}`;
  try {
    const tablets = await supportsTablets(client);
    await bootstrapDdl(
      client,
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replicationMap(config.replication)}` +
        (tablets ? " AND tablets = {'enabled': false}" : ''),
    );
    await client.execute(`USE ${keyspace}`, [], { prepare: false });
    await bootstrapDdl(
      client,
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text, checksum text, applied_at timestamp)',
    );
    await bootstrapDdl(
      client,
      'CREATE TABLE IF NOT EXISTS schema_migration_lock (name text PRIMARY KEY, owner text, acquired_at timestamp)',
    );
    await acquireLock(client, owner, log);
    try {
      const appliedRows = await client.execute('SELECT version, checksum FROM schema_migrations', [], {
        prepare: true,
        consistency: consistency.quorum,
      });
      const applied = appliedRows.rows.map((row) => ({ version: row.get('version') as string, checksum: row.get('checksum') as string }));
      const pending = pendingMigrations('cql', files, applied);
      if (pending.length === 0) log(`cql: keyspace ${keyspace} is up to date (${applied.length} applied)`);
      for (const migration of pending) {
        log(`cql: applying ${migration.version}_${migration.name} (${migration.statements.length} statements)…`);
        for (const statement of migration.statements) await ddl(client, statement);
        await client.execute(
          'INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)',
          [migration.version, migration.name, migration.checksum, new Date()],
          { prepare: true, consistency: consistency.quorum },
        );
        await renewLock(client, owner);
      }
      return {
        applied: pending.map((migration) => migration.version),
        alreadyApplied: applied.map((record) => record.version).sort(),
      };
    } finally {
      await releaseLock(client, owner);
    }
  } finally {
    await client.shutdown();
  }
}

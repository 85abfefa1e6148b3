/**
 * Applies `cql/postgres/*.sql` to DATABASE_SCHEMA, each file in one transaction with its record, under a
 * session advisory lock so two runners never apply the same file twice.
 */
import pg from 'pg';
import type { Config } from '../config.js';
import { postgresTls, withoutTlsParameters } from '../postgres/pool.js';
import { forgetSecret, resolveDatabaseUrl } from '../secrets.js';
import { loadMigrations, pendingMigrations, type MigrationReport } from './files.js';

// One key for every schema: CREATE EXTENSION is database-wide, so schemas must not migrate concurrently either.
const ADVISORY_LOCK_KEY = 727_274_001;

export async function migrateSql(
  config: Config['postgres'],
  migrationsDir: string,
  log: (line: string) => void,
): Promise<MigrationReport> {
  const files = loadMigrations(`${migrationsDir}/postgres`, 'sql');
  const client = await connectWhenReady(config, log);
  const schema = config.schema;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET search_path TO ${schema}, public`);
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ version: string; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations ORDER BY version',
      );
      const pending = pendingMigrations('sql', files, rows);
      if (pending.length === 0) log(`sql: schema ${schema} is up to date (${rows.length} applied)`);
      for (const migration of pending) {
        log(`sql: applying ${migration.version}_${migration.name} (${migration.statements.length} statements)…`);
        await client.query('BEGIN');
        try {
          for (const statement of migration.statements) await client.query(statement);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw new Error(`sql: migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`, { cause: error });
        }
      }
      return { applied: pending.map((migration) => migration.version), alreadyApplied: rows.map((row) => row.version) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/** Errors a database still coming up answers with: no host yet, refused, reset, starting up, rotating. */
const NOT_READY = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', '57P03', '28P01']);

/**
 * Connects, with the same TLS as the service (postgresTls), waiting up to `patienceMs` for a database that is
 * not ready yet: on a first deploy the migration may start while Aurora's instance is still coming up, or while
 * the first rotation of its generated password is being applied (a stale password is 28P01: the secret is read
 * again). Anything else fails at once.
 */
async function connectWhenReady(config: Config['postgres'], log: (line: string) => void, patienceMs = 240_000): Promise<pg.Client> {
  const deadline = Date.now() + patienceMs;
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({
      connectionString: withoutTlsParameters(await resolveDatabaseUrl(config)),
      ssl: postgresTls(config),
      connectionTimeoutMillis: 10_000,
    });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as { code?: string }).code ?? '';
      if (!NOT_READY.has(code) || Date.now() > deadline) throw error;
      if (code === '28P01' && config.urlSecretArn) forgetSecret(config.urlSecretArn);
      log(`sql: the database is not ready (${code}); attempt ${attempt}, trying again in 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}

import { cpSync, mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MigrationChecksumError } from '../../lib/migrations/files.js';
import { migrateAll } from '../../lib/use-cases/migrations.js';
import { defaultMigrationsDir, loadMigrations } from '../../lib/migrations/files.js';
import { configFor, dropNamespace, uniqueNamespace, withCql, withPg } from '../support/stores.js';

const created: string[] = [];
const tempDirs: string[] = [];
const quiet = () => undefined;
const cqlVersions = loadMigrations(`${defaultMigrationsDir()}/scylla`, 'cql').map((file) => file.version);
const sqlVersions = loadMigrations(`${defaultMigrationsDir()}/postgres`, 'sql').map((file) => file.version);

function freshNamespace(label: string): string {
  const name = uniqueNamespace(label);
  created.push(name);
  return name;
}

function copyOfMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  tempDirs.push(dir);
  cpSync(defaultMigrationsDir(), dir, { recursive: true });
  return dir;
}

afterAll(async () => {
  for (const name of created) await dropNamespace(name);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('migration runner against the real CQL node and PostgreSQL', () => {
  it('applies every migration to an empty keyspace and schema, then is a no-op', async () => {
    const namespace = freshNamespace('mig');
    const config = configFor(namespace);
    const lines: string[] = [];

    const first = await migrateAll(config, (line) => lines.push(line));
    expect(first.cql?.applied).toEqual(cqlVersions);
    expect(first.sql.applied).toEqual(sqlVersions);
    expect(lines.some((line) => line.includes('applying 0001_initial'))).toBe(true);

    const second = await migrateAll(config, quiet);
    expect(second.cql).toEqual({ applied: [], alreadyApplied: cqlVersions });
    expect(second.sql).toEqual({ applied: [], alreadyApplied: sqlVersions });

    const recorded = await withCql((client) =>
      client.execute(`SELECT version, checksum FROM ${namespace}.schema_migrations`),
    );
    expect(recorded.rows.map((row) => row.get('version')).sort()).toEqual(cqlVersions);
    expect(String(recorded.rows[0]?.get('checksum'))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to run when an applied file was edited, naming the file', async () => {
    const namespace = freshNamespace('mig');
    const dir = copyOfMigrations();
    await migrateAll(configFor(namespace, { MIGRATIONS_DIR: dir }), quiet);

    appendFileSync(join(dir, 'scylla', '0001_initial.cql'), '\n-- an innocent-looking edit\n');
    const attempt = migrateAll(configFor(namespace, { MIGRATIONS_DIR: dir }), quiet);
    await expect(attempt).rejects.toBeInstanceOf(MigrationChecksumError);
    await expect(attempt).rejects.toThrow(/0001_initial was edited after it was applied/);
  });

  it('applies a new migration added later, and only that one', async () => {
    const namespace = freshNamespace('mig');
    const dir = copyOfMigrations();
    await migrateAll(configFor(namespace, { MIGRATIONS_DIR: dir }), quiet);
    appendFileSync(join(dir, 'scylla', '9999_probe.cql'), 'CREATE TABLE IF NOT EXISTS probe (id int PRIMARY KEY);\n');

    const result = await migrateAll(configFor(namespace, { MIGRATIONS_DIR: dir }), quiet);
    expect(result.cql?.applied).toEqual(['9999']);
    const tables = await withCql((client) =>
      client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?', [namespace, 'probe']),
    );
    expect(tables.rowLength).toBe(1);
  });

  it('two runners started at once apply each migration exactly once', async () => {
    const namespace = freshNamespace('mig');
    const config = configFor(namespace);
    const results = await Promise.all([migrateAll(config, quiet), migrateAll(config, quiet)]);

    const cqlApplied = results.flatMap((result) => result.cql?.applied ?? []);
    const sqlApplied = results.flatMap((result) => result.sql.applied);
    expect(cqlApplied).toEqual(cqlVersions);
    expect(sqlApplied).toEqual(sqlVersions);
    const sqlRows = await withPg((client) => client.query(`SELECT version FROM ${namespace}.schema_migrations ORDER BY version`));
    expect(sqlRows.rows.map((row) => row.version)).toEqual(sqlVersions);
  });

  it('creates the PostgreSQL search index and metadata tables', async () => {
    const namespace = freshNamespace('mig');
    await migrateAll(configFor(namespace), quiet);
    const tables = await withPg((client) =>
      client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [namespace],
      ),
    );
    expect(tables.rows.map((row) => row.table_name)).toEqual(['change_outbox', 'chats', 'message_search', 'message_templates', 'participants', 'schema_migrations']);
    const indexes = await withPg((client) =>
      client.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'message_search_chat_document_idx'", [namespace]),
    );
    expect(indexes.rows[0]?.indexdef).toMatch(/USING gin \(chat_id, document\)/);
  });
});

/** Brings both stores' schemas up to date: the CQL migrations (unless Scylla is disabled), then the SQL ones. */
import type { Config } from '../config.js';
import { migrateCql } from '../migrations/cql-runner.js';
import { defaultMigrationsDir, type MigrationReport } from '../migrations/files.js';
import { migrateSql } from '../migrations/sql-runner.js';

export interface MigrateAllResult {
  cql?: MigrationReport;
  sql: MigrationReport;
}

/** Applies pending CQL and SQL migrations, printing progress through `log`. */
export async function migrateAll(config: Config, log: (line: string) => void = console.error): Promise<MigrateAllResult> {
  const dir = defaultMigrationsDir(config.migrationsDir);
  const cql = config.scylla.enabled ? await migrateCql(config.scylla, config.instanceName, dir, log) : undefined;
  if (!cql) log('cql: SCYLLA_ENABLED=false; skipping the CQL migrations');
  const sql = await migrateSql(config.postgres, dir, log);
  return { cql, sql };
}

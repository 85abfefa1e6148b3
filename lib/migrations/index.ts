import type { Config } from '../config.js';
import { migrateCql } from './cql-runner.js';
import { defaultMigrationsDir, type MigrationReport } from './files.js';
import { migrateSql } from './sql-runner.js';

export { MigrationChecksumError } from './files.js';
export type { MigrationReport } from './files.js';

export interface MigrateAllResult {
  cql?: MigrationReport;
  sql: MigrationReport;
}

/** Applies pending CQL (unless Scylla is disabled) and SQL migrations, printing progress through `log`. */
export async function migrateAll(config: Config, log: (line: string) => void = console.error): Promise<MigrateAllResult> {
  const dir = defaultMigrationsDir(config.migrationsDir);
  const cql = config.scylla.enabled ? await migrateCql(config.scylla, dir, log) : undefined;
  if (!cql) log('cql: SCYLLA_ENABLED=false; skipping the CQL migrations');
  const sql = await migrateSql(config.postgres, dir, log);
  return { cql, sql };
}

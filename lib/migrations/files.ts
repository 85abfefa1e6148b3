/** Reads numbered migration files (`0001_name.cql`, `0001_name.sql`) and their checksums. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MigrationFile {
  version: string;
  name: string;
  checksum: string;
  /** The file's statements, comments removed, in order. */
  statements: string[];
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.(cql|sql)$/;

/** The project's `cql/` folder, or `MIGRATIONS_DIR` where a bundle copied it elsewhere. */
export function defaultMigrationsDir(configured?: string): string {
  if (configured) return configured;
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cql');
}

export function checksumOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Splits a file into statements at semicolons that end a line. Good enough for DDL; a migration that needs a
 * semicolon inside a string literal (a PL/pgSQL body) is sent whole when it starts with `-- whole-file`.
 */
export function splitStatements(text: string): string[] {
  if (text.startsWith('-- whole-file')) return [text];
  const withoutComments = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

export function loadMigrations(dir: string, extension: 'cql' | 'sql'): MigrationFile[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(`.${extension}`))
    .sort();
  const seen = new Set<string>();
  return files.map((file) => {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`Migration file ${join(dir, file)} must be named NNNN_snake_name.${extension}`);
    const version = match[1]!;
    if (seen.has(version)) throw new Error(`Two migrations in ${dir} share version ${version}`);
    seen.add(version);
    const text = readFileSync(join(dir, file), 'utf8');
    return { version, name: match[2]!, checksum: checksumOf(text), statements: splitStatements(text) };
  });
}

export class MigrationChecksumError extends Error {
  override name = 'MigrationChecksumError';
  constructor(store: string, version: string, name: string) {
    super(
      `${store} migration ${version}_${name} was edited after it was applied (checksum differs). ` +
        'Applied migrations are immutable: revert the edit and add a new migration instead.',
    );
  }
}

export interface AppliedRecord {
  version: string;
  checksum: string;
}

/** The files still to apply; throws if an applied file changed since. */
export function pendingMigrations(store: string, files: MigrationFile[], applied: AppliedRecord[]): MigrationFile[] {
  const appliedByVersion = new Map(applied.map((record) => [record.version, record.checksum]));
  for (const file of files) {
    const checksum = appliedByVersion.get(file.version);
    if (checksum !== undefined && checksum !== file.checksum) {
      throw new MigrationChecksumError(store, file.version, file.name);
    }
  }
  return files.filter((file) => !appliedByVersion.has(file.version));
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

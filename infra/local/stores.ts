/**
 * Brings up (or reuses) every store the service needs on this machine: the CQL store (see cql-store.ts),
 * PostgreSQL, Redis and the Upstash-compatible REST endpoint in front of Redis. Shared by the local server
 * and the test suite's global setup. Returns the environment the service reads and a stop() that stops only
 * what this call started.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { tcpPortOpen } from './cassandra.js';
import { acquireCqlStore, type CqlStore } from './cql-store.js';
import { LOCAL_SERVICE_AUDIENCE } from './jwt.js';
import { startUpstashRest, type UpstashRestServer } from './upstash-rest.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const LOCAL_UPSTASH_TOKEN = 'local-upstash-token';

export interface LocalStores {
  env: Record<string, string>;
  cql: CqlStore;
  /** Stops what was started; `keepCql` leaves a started node running for the next run. */
  stop(options?: { keepCql?: boolean }): Promise<void>;
}

async function postgresAnswers(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts the distribution's PostgreSQL cluster where the machine has one installed but stopped. */
function tryStartPostgres(log: (line: string) => void): boolean {
  if (!existsSync('/etc/postgresql')) return false;
  const versions = readdirSync('/etc/postgresql');
  if (versions.length === 0) return false;
  log(`local-stores: starting PostgreSQL ${versions[0]} (pg_ctlcluster)…`);
  const result = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0]!, 'main', 'start'], { stdio: 'ignore' });
  return result.status === 0;
}

async function ensurePostgres(url: string, log: (line: string) => void): Promise<void> {
  let problem = await postgresAnswers(url);
  if (problem && url === (process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL) && tryStartPostgres(log)) {
    await new Promise((r) => setTimeout(r, 1500));
    problem = await postgresAnswers(url);
  }
  if (problem) {
    throw new Error(
      `PostgreSQL does not answer at ${url.replace(/:[^:@/]*@/, ':***@')} (${problem}). ` +
        'Start PostgreSQL 14+ there (Debian: apt-get install postgresql), or set DATABASE_URL to one that runs.',
    );
  }
}

async function ensureRedis(url: string, log: (line: string) => void): Promise<void> {
  const { hostname, port } = new URL(url);
  const redisPort = Number(port || 6379);
  if (await tcpPortOpen(hostname, redisPort)) return;
  const hasServer = spawnSync('which', ['redis-server'], { stdio: 'ignore' }).status === 0;
  if (hasServer && ['127.0.0.1', 'localhost'].includes(hostname)) {
    log(`local-stores: starting redis-server on ${hostname}:${redisPort}…`);
    execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no']);
    for (let attempt = 0; attempt < 20; attempt++) {
      if (await tcpPortOpen(hostname, redisPort)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(
    `Redis does not answer at ${hostname}:${redisPort}. Install and start Redis 6+ (Debian: apt-get install redis-server), or set REDIS_URL.`,
  );
}

export async function startLocalStores(
  options: { nodes?: number; upstashPort?: number; log?: (line: string) => void } = {},
): Promise<LocalStores> {
  const log = options.log ?? console.error;
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  await ensurePostgres(databaseUrl, log);
  await ensureRedis(redisUrl, log);
  const cql = await acquireCqlStore({ nodes: options.nodes, log });
  let upstash: UpstashRestServer | undefined;
  const externalUpstash = process.env.UPSTASH_REDIS_REST_URL;
  if (!externalUpstash) {
    upstash = await startUpstashRest({ redisUrl, token: LOCAL_UPSTASH_TOKEN, port: options.upstashPort ?? 0 });
  }
  const env: Record<string, string> = {
    SCYLLA_CONTACT_POINTS: cql.contactPoints.join(','),
    SCYLLA_PORT: String(cql.port),
    SCYLLA_LOCAL_DC: cql.localDataCenter,
    DATABASE_URL: databaseUrl,
    UPSTASH_REDIS_REST_URL: externalUpstash ?? upstash!.url,
    UPSTASH_REDIS_REST_TOKEN: process.env.UPSTASH_REDIS_REST_TOKEN ?? LOCAL_UPSTASH_TOKEN,
    REDIS_URL: redisUrl,
    // Service tokens are issued for their own audience (infra/local/jwt.ts mints and accepts it); the service
    // treats a token as a service principal only when it was issued for this one.
    JWT_SERVICE_AUDIENCE: LOCAL_SERVICE_AUDIENCE,
  };
  return {
    env,
    cql,
    stop: async (options = {}) => {
      await upstash?.close();
      if (!options.keepCql) await cql.stop();
    },
  };
}

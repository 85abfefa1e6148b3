/**
 * The only reader of `process.env`. Every variable of the README's configuration table is parsed and
 * validated here once; a wrong or missing one stops start-up with an error naming it.
 */
import * as z from 'zod/mini';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const CONSISTENCY_LEVELS = ['ONE', 'LOCAL_ONE', 'QUORUM', 'LOCAL_QUORUM', 'EACH_QUORUM', 'ALL'] as const;
export type ConsistencyName = (typeof CONSISTENCY_LEVELS)[number];

const booleanFlag = (fallback: boolean) =>
  z.pipe(
    z.optional(z.enum(['true', 'false', '1', '0'], { message: "expected 'true' or 'false'" })),
    z.transform((value: 'true' | 'false' | '1' | '0' | undefined) => (value === undefined ? fallback : value === 'true' || value === '1')),
  );

const integer = (fallback: number, min: number, max: number) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value: string | undefined, ctx) => {
      if (value === undefined || value === '') return fallback;
      const parsed = Number(value);
      if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
        ctx.issues.push({ code: 'custom', message: `expected an integer from ${min} to ${max}, got '${value}'`, input: value });
        return z.NEVER;
      }
      return parsed;
    }),
  );

const identifier = (fallback: string) =>
  z.pipe(
    z.pipe(z.optional(z.string()), z.transform((value: string | undefined) => value || fallback)),
    z.string().check(z.regex(/^[a-z][a-z0-9_]{0,47}$/, 'expected a lower-case identifier ([a-z][a-z0-9_]*, at most 48 chars)')),
  );

/**
 * `SCYLLA_REPLICATION`: `SimpleStrategy:1` (one local node) or `dc1:3,dc2:3` (NetworkTopologyStrategy,
 * the production choice: RF 3 in each data centre).
 */
export type Replication =
  | { class: 'SimpleStrategy'; replication_factor: number }
  | { class: 'NetworkTopologyStrategy'; dataCenters: Record<string, number> };

const replication = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined, ctx): Replication => {
    const text = value || 'SimpleStrategy:1';
    const simple = /^SimpleStrategy:(\d{1,2})$/.exec(text);
    if (simple) return { class: 'SimpleStrategy', replication_factor: Number(simple[1]) };
    const dataCenters: Record<string, number> = {};
    for (const part of text.split(',')) {
      const match = /^([A-Za-z0-9_.-]{1,64}):(\d{1,2})$/.exec(part.trim());
      if (!match) {
        ctx.issues.push({ code: 'custom', message: `expected 'SimpleStrategy:N' or 'dc1:3,dc2:3', got '${text}'`, input: value });
        return z.NEVER;
      }
      dataCenters[match[1]!] = Number(match[2]);
    }
    return { class: 'NetworkTopologyStrategy', dataCenters };
  }),
);

const url = (protocols: string[]) =>
  z.string({ message: 'is required' }).check(
    z.refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `expected a ${protocols.join(' or ')} URL`),
  );

const optionalText = z.pipe(z.optional(z.string()), z.transform((value: string | undefined) => value || undefined));
const withDefault = <T extends string>(schema: z.ZodMiniType<T>, fallback: T) =>
  z.pipe(z.optional(schema), z.transform((value: T | undefined) => value ?? fallback));

const envSchema = z
  .object({
    SCYLLA_ENABLED: booleanFlag(true),
    SCYLLA_CONTACT_POINTS: z.pipe(
      z.pipe(z.optional(z.string()), z.transform((value: string | undefined) => (value || '127.0.0.1').split(',').map((point) => point.trim()))),
      z.array(z.string().check(z.regex(/^[A-Za-z0-9.:_-]+$/, 'expected comma-separated host names or addresses'))).check(z.minLength(1)),
    ),
    SCYLLA_PORT: integer(9042, 1, 65535),
    SCYLLA_KEYSPACE: identifier('chat'),
    SCYLLA_LOCAL_DC: z.pipe(z.optional(z.string()), z.transform((value: string | undefined) => value || 'datacenter1')),
    SCYLLA_USERNAME: optionalText,
    SCYLLA_PASSWORD: optionalText,
    SCYLLA_CREDENTIALS_SECRET_ARN: optionalText,
    SCYLLA_TLS: z.optional(z.enum(['true', 'false'], { message: "expected 'true' or 'false'" })),
    SCYLLA_TLS_CA_SECRET_ARN: optionalText,
    SCYLLA_TLS_SERVER_NAME: optionalText,
    SCYLLA_SERIAL_CONSISTENCY: withDefault(z.enum(['LOCAL_SERIAL', 'SERIAL']), 'LOCAL_SERIAL'),
    SCYLLA_REPLICATION: replication,
    SCYLLA_READ_CONSISTENCY: withDefault(z.enum(CONSISTENCY_LEVELS), 'LOCAL_ONE'),
    SCYLLA_WRITE_CONSISTENCY: withDefault(z.enum(CONSISTENCY_LEVELS), 'LOCAL_QUORUM'),
    SCYLLA_REQUEST_TIMEOUT_MS: integer(1000, 50, 60_000),
    SCYLLA_CONNECT_TIMEOUT_MS: integer(1000, 50, 60_000),
    SCYLLA_LWT_TIMEOUT_MS: integer(3000, 50, 60_000),
    DATABASE_URL: z.optional(url(['postgres:', 'postgresql:'])),
    DATABASE_URL_SECRET_ARN: optionalText,
    DATABASE_SCHEMA: identifier('public'),
    DATABASE_TLS: z.optional(z.enum(['true', 'false'], { message: "expected 'true' or 'false'" })),
    DATABASE_TLS_CA: withDefault(z.enum(['rds', 'system']), 'rds'),
    DATABASE_POOL_MAX: integer(1, 1, 100),
    DATABASE_TIMEOUT_MS: integer(1000, 50, 60_000),
    UPSTASH_REDIS_REST_URL: z.optional(url(['http:', 'https:'])),
    UPSTASH_REDIS_REST_TOKEN: optionalText,
    UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: optionalText,
    REDIS_TIMEOUT_MS: integer(1000, 50, 60_000),
    TELEGRAM_WEBHOOK_SECRET: optionalText,
    TELEGRAM_WEBHOOK_SECRET_ARN: optionalText,
    TELEGRAM_BOT_TOKEN: optionalText,
    TELEGRAM_BOT_TOKEN_SECRET_ARN: optionalText,
    TELEGRAM_API_URL: z.optional(url(['http:', 'https:'])),
    TELEGRAM_HISTORY_URL: z.optional(url(['http:', 'https:'])),
    TELEGRAM_HISTORY_TOKEN: optionalText,
    TELEGRAM_HISTORY_TOKEN_SECRET_ARN: optionalText,
    RECONCILER_SETTLE_MS: integer(2000, 0, 60_000),
    CHANGES_CLOCK_SKEW_MS: integer(1000, 0, 60_000),
    CHANGES_BUS_NAME: optionalText,
    WS_MANAGEMENT_ENDPOINT: optionalText,
    JWT_ISSUER: optionalText,
    JWT_AUDIENCE: optionalText,
    JWT_SERVICE_AUDIENCE: optionalText,
    CHANGES_WRITE_DEADLINE_MS: integer(1000, 50, 60_000),
    PURGE_QUEUE_URL: z.optional(url(['https:', 'http:'])),
    PURGE_DELAY_SECONDS: integer(120, 0, 900),
    RATE_LIMIT_WRITES: integer(60, 1, 1_000_000),
    RATE_LIMIT_WINDOW_SECONDS: integer(10, 1, 3600),
    RATE_LIMIT_READS: integer(600, 1, 1_000_000),
    SNOWFLAKE_LEASE_TTL_SECONDS: integer(120, 3, 3600),
    MIGRATIONS_DIR: optionalText,
    LOG_LEVEL: withDefault(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']), 'INFO'),
    METRICS_NAMESPACE: z.pipe(
      z.pipe(z.optional(z.string()), z.transform((value: string | undefined) => value || 'ChatMessages')),
      z.string().check(z.regex(/^[A-Za-z0-9._#:/-]{1,255}$/, 'expected a CloudWatch namespace')),
    ),
    METRICS_ENABLED: booleanFlag(true),
    TRACING_ENABLED: booleanFlag(false),
    // Set by Lambda; names this container in lease owners so an operator can tell them apart.
    AWS_LAMBDA_LOG_STREAM_NAME: optionalText,
    // Set by Lambda: its presence is what "deployed" means (TLS on by default).
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
  })
  .check(
    z.superRefine((env, ctx) => {
      if (Boolean(env.SCYLLA_USERNAME) !== Boolean(env.SCYLLA_PASSWORD)) {
        ctx.addIssue({
          code: 'custom',
          path: [env.SCYLLA_USERNAME ? 'SCYLLA_PASSWORD' : 'SCYLLA_USERNAME'],
          message: 'SCYLLA_USERNAME and SCYLLA_PASSWORD are set together or not at all',
          input: env,
        });
      }
    }),
  );

type Env = z.output<typeof envSchema>;

export interface Config {
  scylla: {
    enabled: boolean;
    contactPoints: string[];
    port: number;
    keyspace: string;
    localDataCenter: string;
    credentials?: { username: string; password: string };
    credentialsSecretArn?: string;
    /**
     * TLS to the cluster: on by default when deployed (ScyllaDB Cloud requires it), off by default locally;
     * `SCYLLA_TLS=false` is the only way to turn it off in a Lambda. The CA is the system store unless a PEM
     * bundle is given in Secrets Manager; `serverName` is the name certificates are checked against when the
     * contact points are addresses.
     */
    tls: { enabled: boolean; caSecretArn?: string; serverName?: string };
    /**
     * The serial consistency of every conditional (IF) write: LOCAL_SERIAL keeps Paxos inside the local data
     * centre (the driver's default, SERIAL, runs it across every data centre of a multi-DC cluster).
     */
    serialConsistency: 'LOCAL_SERIAL' | 'SERIAL';
    replication: Replication;
    readConsistency: ConsistencyName;
    writeConsistency: ConsistencyName;
    requestTimeoutMs: number;
    connectTimeoutMs: number;
    /** Lightweight transactions under contention take several Paxos rounds: they get longer than a plain request. */
    lwtTimeoutMs: number;
  };
  postgres: {
    url?: string;
    urlSecretArn?: string;
    schema: string;
    poolMax: number;
    timeoutMs: number;
    /**
     * TLS with the server certificate verified (host name included): on by default when deployed, against the
     * RDS CA bundle shipped in the bundle (`rds`, RDS and Aurora) or the system store (`system`, any other
     * managed PostgreSQL); `DATABASE_TLS=false` is the only way to turn it off in a Lambda.
     */
    tls: { enabled: boolean; ca: 'rds' | 'system' };
  };
  redis: { url?: string; token?: string; tokenSecretArn?: string; timeoutMs: number };
  telegram: {
    webhookSecret?: string;
    webhookSecretArn?: string;
    botToken?: string;
    botTokenSecretArn?: string;
    apiUrl: string;
    historyUrl?: string;
    historyToken?: string;
    historyTokenSecretArn?: string;
  };
  /** True in a Lambda (AWS_LAMBDA_FUNCTION_NAME is set): TLS defaults on. */
  deployed: boolean;
  /** How long the reconciler watches a suspected counter drift before repairing it (see reconciler). */
  reconcilerSettleMs: number;
  /**
   * The changes feed's settle window is their sum (README, "The changes feed"): the largest difference between
   * two containers' clocks, and the longest a change's write may take from its id being minted to its
   * acknowledgement (the write is abandoned after it, and a later acknowledgement is counted as late).
   */
  changes: { clockSkewMs: number; writeDeadlineMs: number };
  /**
   * Real-time push: the EventBridge bus every recorded change is published to (unset: none, as locally, where
   * the local server fans out in-process), and the WebSocket API's management endpoint the fan-out posts to.
   */
  push: { busName?: string; managementEndpoint?: string };
  /** The JWT the WebSocket authorizer accepts: the HTTP API's issuer (its OIDC discovery names the JWKS) and audience. */
  jwt: {
    issuer?: string;
    audience?: string;
    /**
     * The audience (or OAuth client id, for issuers such as Cognito whose access tokens carry `client_id`
     * instead of `aud`) that service tokens are issued for. A token acts as a service principal only when it
     * has the service scope and was issued for this audience; unset: no token is a service principal.
     */
    serviceAudience?: string;
  };
  /** The SQS queue of channel purges; unset (locally): a deleted channel is purged in-process, in the background. */
  purgeQueueUrl?: string;
  /**
   * How long after a delete the local in-process purge starts (the SQS queue's delivery delay does the same in
   * AWS): beyond the longest request and the 30 s Telegram link cache, so writes in flight land first.
   */
  purgeDelaySeconds: number;
  /** Writes and reads each user may make per window (service principals are exempt). */
  rateLimit: { writes: number; reads: number; windowSeconds: number };
  /** How long a Snowflake worker-id claim lives without renewal (lib/ids/worker-lease.ts). */
  workerLeaseTtlSeconds: number;
  /** Where `scylla/*.cql` and `postgres/*.sql` live; the project's `cql/` unless bundled elsewhere. */
  migrationsDir?: string;
  logLevel: Env['LOG_LEVEL'];
  /** EMF metrics (CloudWatch embedded metric format on stdout): off locally unless asked for. */
  metrics: { namespace: string; enabled: boolean };
  /** Powertools Tracer (X-Ray); the stack turns on active tracing with it. */
  tracingEnabled: boolean;
  /** This process, as lease owners and logs name it: the Lambda log stream, or `local`. */
  instanceName: string;
}

function toConfig(env: Env): Config {
  const deployed = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  return {
    scylla: {
      enabled: env.SCYLLA_ENABLED,
      contactPoints: env.SCYLLA_CONTACT_POINTS,
      port: env.SCYLLA_PORT,
      keyspace: env.SCYLLA_KEYSPACE,
      localDataCenter: env.SCYLLA_LOCAL_DC,
      credentials:
        env.SCYLLA_USERNAME && env.SCYLLA_PASSWORD
          ? { username: env.SCYLLA_USERNAME, password: env.SCYLLA_PASSWORD }
          : undefined,
      credentialsSecretArn: env.SCYLLA_CREDENTIALS_SECRET_ARN,
      tls: {
        enabled: env.SCYLLA_TLS === undefined ? deployed : env.SCYLLA_TLS === 'true',
        caSecretArn: env.SCYLLA_TLS_CA_SECRET_ARN,
        serverName: env.SCYLLA_TLS_SERVER_NAME,
      },
      serialConsistency: env.SCYLLA_SERIAL_CONSISTENCY,
      replication: env.SCYLLA_REPLICATION,
      readConsistency: env.SCYLLA_READ_CONSISTENCY,
      writeConsistency: env.SCYLLA_WRITE_CONSISTENCY,
      requestTimeoutMs: env.SCYLLA_REQUEST_TIMEOUT_MS,
      connectTimeoutMs: env.SCYLLA_CONNECT_TIMEOUT_MS,
      lwtTimeoutMs: env.SCYLLA_LWT_TIMEOUT_MS,
    },
    postgres: {
      url: env.DATABASE_URL,
      urlSecretArn: env.DATABASE_URL_SECRET_ARN,
      schema: env.DATABASE_SCHEMA,
      poolMax: env.DATABASE_POOL_MAX,
      timeoutMs: env.DATABASE_TIMEOUT_MS,
      tls: { enabled: env.DATABASE_TLS === undefined ? deployed : env.DATABASE_TLS === 'true', ca: env.DATABASE_TLS_CA },
    },
    redis: {
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
      tokenSecretArn: env.UPSTASH_REDIS_REST_TOKEN_SECRET_ARN,
      timeoutMs: env.REDIS_TIMEOUT_MS,
    },
    telegram: {
      webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
      webhookSecretArn: env.TELEGRAM_WEBHOOK_SECRET_ARN,
      botToken: env.TELEGRAM_BOT_TOKEN,
      botTokenSecretArn: env.TELEGRAM_BOT_TOKEN_SECRET_ARN,
      apiUrl: env.TELEGRAM_API_URL ?? 'https://api.telegram.org',
      historyUrl: env.TELEGRAM_HISTORY_URL,
      historyToken: env.TELEGRAM_HISTORY_TOKEN,
      historyTokenSecretArn: env.TELEGRAM_HISTORY_TOKEN_SECRET_ARN,
    },
    deployed,
    reconcilerSettleMs: env.RECONCILER_SETTLE_MS,
    changes: { clockSkewMs: env.CHANGES_CLOCK_SKEW_MS, writeDeadlineMs: env.CHANGES_WRITE_DEADLINE_MS },
    push: { busName: env.CHANGES_BUS_NAME, managementEndpoint: env.WS_MANAGEMENT_ENDPOINT },
    jwt: { issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, serviceAudience: env.JWT_SERVICE_AUDIENCE },
    purgeQueueUrl: env.PURGE_QUEUE_URL,
    purgeDelaySeconds: env.PURGE_DELAY_SECONDS,
    rateLimit: { writes: env.RATE_LIMIT_WRITES, reads: env.RATE_LIMIT_READS, windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS },
    workerLeaseTtlSeconds: env.SNOWFLAKE_LEASE_TTL_SECONDS,
    migrationsDir: env.MIGRATIONS_DIR,
    logLevel: env.LOG_LEVEL,
    metrics: { namespace: env.METRICS_NAMESPACE, enabled: env.METRICS_ENABLED },
    tracingEnabled: env.TRACING_ENABLED,
    instanceName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? 'local',
  };
}

/** Parses an environment; throws a ConfigError naming every wrong or missing variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const message = issue.code === 'invalid_type' && env[name] === undefined ? 'is required' : issue.message;
      return `${name}: ${message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return toConfig(result.data);
}

export type StoreName = 'scylla' | 'postgres' | 'redis';

/**
 * Throws a ConfigError naming each missing variable that the given stores need. Entry points call it at
 * start-up for the stores they use, so a Lambda without Redis does not demand Redis settings.
 */
export function requireStores(config: Config, stores: StoreName[]): void {
  const missing: string[] = [];
  if (stores.includes('postgres') && !config.postgres.url && !config.postgres.urlSecretArn) {
    missing.push('DATABASE_URL: is required (or DATABASE_URL_SECRET_ARN)');
  }
  if (stores.includes('redis')) {
    if (!config.redis.url) missing.push('UPSTASH_REDIS_REST_URL: is required');
    if (!config.redis.token && !config.redis.tokenSecretArn) {
      missing.push('UPSTASH_REDIS_REST_TOKEN: is required (or UPSTASH_REDIS_REST_TOKEN_SECRET_ARN)');
    }
  }
  if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n  ${missing.join('\n  ')}`);
}

let current: Config | undefined;

/**
 * Parses `env` and installs it as the process configuration (replacing any earlier one), then returns it.
 * Whoever assembles the environment before the service runs calls it once that environment is complete: the
 * local server and the CLIs after adding the local stores' settings, a test worker after pointing the
 * settings at its own keyspace. A Lambda never needs to: getConfig() loads `process.env` on first use.
 * Clients already built (Scylla, PostgreSQL, Redis) keep the settings they were built with until closed.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  current = parseConfig(env);
  return current;
}

/** The process's configuration: the one loadConfig() installed, or `process.env` parsed on first use. */
export function getConfig(): Config {
  return current ?? loadConfig();
}

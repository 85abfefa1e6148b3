/**
 * One cassandra-driver Client per process (a warm Lambda container keeps it between invocations).
 * Created lazily on first use, connected once; a failed connect is retried on the next call instead of
 * caching the rejection. Timeouts are short so a down cluster becomes a 503 within about a second.
 */
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import cassandra from 'cassandra-driver';
import { getConfig, type Config } from '../config.js';
import { StoreUnavailableError } from '../errors.js';
import { resolveScyllaCa, resolveScyllaCredentials } from '../secrets.js';

const { Client, auth, policies, types } = cassandra;
export type ScyllaClient = cassandra.Client;

export const consistency = types.consistencies;

export interface ClientOptions {
  /** Omit for a client that works before the keyspace exists (migrations). */
  keyspace?: string | undefined;
  /** Overrides the configured per-request timeout (migrations need longer than a request). */
  requestTimeoutMs?: number;
}

/** Builds a client from configuration without connecting it. */
export async function createScyllaClient(config: Config['scylla'], options: ClientOptions = {}): Promise<ScyllaClient> {
  const [credentials, sslOptions] = await Promise.all([resolveScyllaCredentials(config), tlsOptions(config)]);
  return new Client({
    contactPoints: config.contactPoints,
    localDataCenter: config.localDataCenter,
    keyspace: options.keyspace,
    protocolOptions: { port: config.port },
    ...(sslOptions ? { sslOptions } : {}),
    credentials,
    authProvider: credentials ? new auth.PlainTextAuthProvider(credentials.username, credentials.password) : undefined,
    socketOptions: {
      connectTimeout: config.connectTimeoutMs,
      readTimeout: options.requestTimeoutMs ?? config.requestTimeoutMs,
    },
    queryOptions: {
      prepare: true,
      consistency: types.consistencies[toDriverConsistency(config.readConsistency)],
      // Every conditional write (IF …) runs its Paxos round at this level; see Config.scylla.serialConsistency.
      serialConsistency: serialConsistency(config),
    },
    // Heartbeats cannot run while Lambda freezes the process; a socket found dead on thaw errors and the
    // retry policy replays idempotent statements on a fresh connection.
    pooling: { heartBeatInterval: 15_000, coreConnectionsPerHost: { [types.distance.local]: 1, [types.distance.remote]: 0 } },
    policies: {
      // The default exponential policy waits up to 10 minutes between attempts: far too slow to recover a warm container.
      reconnection: new policies.reconnection.ConstantReconnectionPolicy(500),
      retry: new policies.retry.IdempotenceAwareRetryPolicy(new policies.retry.RetryPolicy()),
    },
  });
}

/**
 * The TLS options the driver passes to `tls.connect`: certificates always verified (never
 * `rejectUnauthorized: false`), against the configured CA or the system store, and against `serverName`
 * when the contact points are addresses that certificates do not name.
 */
export async function tlsOptions(config: Config['scylla']): Promise<ConnectionOptions | undefined> {
  if (!config.tls.enabled) return undefined;
  const ca = await resolveScyllaCa(config);
  const serverName = config.tls.serverName;
  return {
    rejectUnauthorized: true,
    ...(ca ? { ca: [ca] } : {}),
    ...(serverName ? { servername: serverName, checkServerIdentity: (_host: string, cert) => checkServerIdentity(serverName, cert) } : {}),
  };
}

export function serialConsistency(config: Config['scylla'] = getConfig().scylla): number {
  return config.serialConsistency === 'SERIAL' ? types.consistencies.serial : types.consistencies.localSerial;
}

function toDriverConsistency(name: Config['scylla']['readConsistency']): keyof typeof types.consistencies {
  const map: Record<typeof name, keyof typeof types.consistencies> = {
    ONE: 'one',
    LOCAL_ONE: 'localOne',
    QUORUM: 'quorum',
    LOCAL_QUORUM: 'localQuorum',
    EACH_QUORUM: 'eachQuorum',
    ALL: 'all',
  };
  return map[name];
}

export function readConsistency(config: Config['scylla'] = getConfig().scylla): number {
  return types.consistencies[toDriverConsistency(config.readConsistency)];
}

export function writeConsistency(config: Config['scylla'] = getConfig().scylla): number {
  return types.consistencies[toDriverConsistency(config.writeConsistency)];
}

let shared: ScyllaClient | undefined;
let connecting: Promise<ScyllaClient> | undefined;

/**
 * The process-wide connected client. Throws StoreUnavailableError when Scylla is disabled or unreachable;
 * the next call tries again on the same client object.
 */
export async function getScylla(): Promise<ScyllaClient> {
  const config = getConfig().scylla;
  if (!config.enabled) throw new StoreUnavailableError('scylla', 'SCYLLA_ENABLED is false');
  if (shared) return shared;
  connecting ??= (async () => {
    const client = await createScyllaClient(config, { keyspace: config.keyspace });
    try {
      await client.connect();
      shared = client;
      return client;
    } catch (error) {
      await client.shutdown().catch(() => undefined);
      throw error;
    } finally {
      connecting = undefined;
    }
  })();
  try {
    return await connecting;
  } catch (error) {
    throw toStoreError(error);
  }
}

/** Closes the shared client (local server shutdown, tests). */
export async function closeScylla(): Promise<void> {
  const client = shared;
  shared = undefined;
  await client?.shutdown();
}

const UNAVAILABLE_CODES = new Set([
  types.responseErrorCodes.unavailableException,
  types.responseErrorCodes.readTimeout,
  types.responseErrorCodes.writeTimeout,
  types.responseErrorCodes.overloaded,
  types.responseErrorCodes.isBootstrapping,
  types.responseErrorCodes.readFailure,
  types.responseErrorCodes.writeFailure,
]);

/** Turns driver errors that mean "the cluster cannot serve this now" into a 503; passes others through. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const driverError = error as { name?: string; code?: number; message?: string };
  if (
    error instanceof cassandra.errors.NoHostAvailableError ||
    error instanceof cassandra.errors.OperationTimedOutError ||
    error instanceof cassandra.errors.BusyConnectionError ||
    (error instanceof cassandra.errors.ResponseError && UNAVAILABLE_CODES.has(driverError.code ?? -1))
  ) {
    return new StoreUnavailableError('scylla', driverError.message ?? String(error));
  }
  return error;
}

/**
 * One cassandra-driver Client per process (a warm Lambda container keeps it between invocations).
 * Created lazily on first use, connected once; a failed connect is retried on the next call instead of
 * caching the rejection. Timeouts are short so a down cluster becomes a 503 within about a second.
 */
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import cassandra from 'cassandra-driver';
import { getConfig, type Config } from '../config.js';
import { StoreUnavailableError } from '../errors.js';
import { log } from '../log.js';
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
  const client = new Client({
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
    // Heartbeats cannot run while Lambda freezes the process: connections the cluster dropped meanwhile are
    // found dead on thaw, and with one connection per host every host is then down at once (see
    // recoverFromFreeze).
    pooling: { heartBeatInterval: 15_000, coreConnectionsPerHost: { [types.distance.local]: 1, [types.distance.remote]: 0 } },
    // A reconnected host keeps the statements it prepared (only its connection went away), so it is usable at
    // once; re-preparing every cached statement first, one round trip each, held a thawed container's first
    // request for as long. A restarted node answers UNPREPARED and the driver prepares that statement then.
    rePrepareOnUp: false,
    policies: {
      // The default exponential policy waits up to 10 minutes between attempts: far too slow to recover a warm
      // container. The first attempt is immediate (a thawed container's first request waits for it, see
      // recoverFromFreeze), then one every 500 ms.
      reconnection: new policies.reconnection.ExponentialReconnectionPolicy(500, 500, true),
      retry: new policies.retry.IdempotenceAwareRetryPolicy(new policies.retry.RetryPolicy()),
    },
  });
  recoverFromFreeze(client, config.connectTimeoutMs);
  return client;
}

/**
 * After a freeze (a Lambda container thawed, a process resumed) the cluster may have closed every pooled
 * connection meanwhile. The driver finds out on thaw, from the socket or from the request itself, marks each
 * host down and fails the request with NoHostAvailableError while it reconnects (which it starts at once).
 * Such a request is sent again once, after the first host is back up, when that cannot apply it twice: the
 * statement is idempotent, or no host ever received it. The wait lasts at most until `windowMs` after the
 * last host went down, so while the cluster is really down requests still fail fast.
 */
function recoverFromFreeze(client: ScyllaClient, windowMs: number): void {
  let allDownAt = 0;
  client.on('hostDown', () => {
    if (!anyHostUp(client)) allDownAt = Date.now();
  });
  const retried = async <T>(idempotent: boolean | undefined, attempt: () => Promise<T>): Promise<T> => {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof cassandra.errors.NoHostAvailableError) || !(idempotent || neverSent(error))) throw error;
      const waitStarted = Date.now();
      const deadline = allDownAt + windowMs;
      if (waitStarted > deadline || !(await hostBackUp(client, deadline))) throw error;
      log().info('scylla: every host was down (connections lost, as after a freeze); request sent again', {
        waitedMs: Date.now() - waitStarted,
        cause: error.message,
      });
      return attempt();
    }
  };
  // Promise forms only (all this service uses); a callback form runs as the driver has it.
  const execute = client.execute.bind(client);
  client.execute = ((query: string, params?: unknown, options?: cassandra.QueryOptions, ...callback: unknown[]) =>
    typeof params === 'function' || typeof options === 'function' || callback.length > 0
      ? (execute as (...args: unknown[]) => unknown)(query, params, options, ...callback)
      : retried(options?.isIdempotent, () => execute(query, params as cassandra.ArrayOrObject, options))) as ScyllaClient['execute'];
  const batch = client.batch.bind(client);
  client.batch = ((queries: Parameters<ScyllaClient['batch']>[0], options?: cassandra.QueryOptions, ...callback: unknown[]) =>
    typeof options === 'function' || callback.length > 0
      ? (batch as (...args: unknown[]) => unknown)(queries, options, ...callback)
      : retried(options?.isIdempotent, () => batch(queries, options))) as ScyllaClient['batch'];
}

function anyHostUp(client: ScyllaClient): boolean {
  return client.hosts.values().some((host) => host.isUp());
}

/**
 * True when no host received the request: each host tried was already down, had no connection to lend, or
 * failed the write before any of it went out (the driver's requestNotWritten).
 */
function neverSent(error: cassandra.errors.NoHostAvailableError): boolean {
  return Object.values(error.innerErrors as Record<string, unknown>).every(
    (cause) =>
      typeof cause === 'string' ||
      cause instanceof cassandra.errors.BusyConnectionError ||
      (cause instanceof Error && ((cause as { requestNotWritten?: boolean }).requestNotWritten === true || cause.message === 'No connection available')),
  );
}

/** How often a request waiting for a host to come back checks again. */
const HOST_BACK_POLL_MS = 10;

/**
 * Resolves true once some host can lend a connection (at once if one can), false if none can by `deadline`.
 * Polled, not awaited as an event: a host comes back either as itself (its pool reconnects, hostUp) or, when
 * no pool had a connection left, as a new Host object the control connection puts in its place while it
 * starts over from the contact points. That one is up from the start (hostAdd, no hostUp) but lends no
 * connection until the control connection has finished refreshing the topology (seen on thaw: requests let
 * go on hostAdd failed again with "No connection available"; the old object's "Setting host as UP" came later,
 * with nobody listening any more).
 */
async function hostBackUp(client: ScyllaClient, deadline: number): Promise<boolean> {
  while (!anyHostUsable(client)) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(HOST_BACK_POLL_MS, left)));
  }
  return true;
}

/** Some host is up and has a connection in its pool (the driver's own test before it lends one). */
function anyHostUsable(client: ScyllaClient): boolean {
  return client.hosts.values().some((host) => (host as typeof host & { getActiveConnection(): unknown }).getActiveConnection() !== null);
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

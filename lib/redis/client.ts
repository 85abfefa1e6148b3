/**
 * One `@upstash/redis` client per process. Upstash speaks HTTP, so there is no connection to keep, but the
 * client is still built once. Each command carries its own timeout and at most one retry: the library's
 * default of five retries with exponential backoff would hold a request for seconds while Redis is down.
 */
import { Redis } from '@upstash/redis';
import { getConfig } from '../config.js';
import { StoreUnavailableError } from '../errors.js';
import { resolveRedisToken } from '../secrets.js';

let client: Redis | undefined;
let creating: Promise<Redis> | undefined;

export async function getRedis(): Promise<Redis> {
  if (client) return client;
  creating ??= (async () => {
    const config = getConfig().redis;
    if (!config.url) throw new StoreUnavailableError('redis', 'UPSTASH_REDIS_REST_URL is not set');
    const created = new Redis({
      url: config.url,
      token: await resolveRedisToken(config),
      retry: { retries: 1, backoff: () => 50 },
      // A function, so an expired request throws; a plain signal makes the library answer "Aborted" as a result.
      signal: () => AbortSignal.timeout(config.timeoutMs),
      enableTelemetry: false,
    });
    client = created;
    return created;
  })().finally(() => {
    creating = undefined;
  });
  return creating;
}

/** Turns network failures, timeouts and 5xx answers into StoreUnavailableError (503). */
export function toRedisError(error: unknown): StoreUnavailableError {
  return new StoreUnavailableError('redis', error instanceof Error ? error.message : String(error));
}

/**
 * Drops the client (Upstash's HTTP client holds no connection to close); the next use builds one from the
 * configuration current then. Like closeScylla and closePostgres: for shutdown and for a changed configuration.
 */
export async function closeRedis(): Promise<void> {
  client = undefined;
}

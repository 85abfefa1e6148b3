/**
 * One Upstash REST pipeline (`POST {url}/pipeline`, a JSON array of commands, answered by an array of
 * `{result}` or `{error}`) with nothing but fetch. The rate limits need this one call per request; the full
 * `@upstash/redis` client weighs ~78 KB in every bundle that imports it, so they use this instead (issue 15.3).
 *
 * It fails as the rate limits saw the client fail (lib/redis/client.ts: one timeout over the whole call,
 * at most one retry): it throws when the timeout (REDIS_TIMEOUT_MS) passes, when the endpoint answers an
 * error status or a command fails, and when the connection fails twice. A request that failed before any
 * answer is sent once more: at once when the socket was reset or closed under it (a keep-alive connection
 * the server closed while the process was frozen between invocations), after 50 ms otherwise (the client's
 * backoff). Results are the endpoint's JSON as is: no base64 encoding is asked for, and none is decoded.
 */
import { getConfig } from '../config.js';
import { StoreUnavailableError } from '../errors.js';
import { resolveRedisToken } from '../secrets.js';

export type RedisCommand = readonly (string | number)[];

/** A command the endpoint refused, or an answer that is not a pipeline's. */
export class RedisPipelineError extends Error {
  override name = 'RedisPipelineError';
}

/** Socket failures of a connection that was open: what a stale keep-alive connection fails with. */
const CLOSED_UNDER_US = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const RETRY_BACKOFF_MS = 50;

function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

async function post(url: string, token: string, body: string, signal: AbortSignal): Promise<Response> {
  const send = () =>
    fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body, signal });
  try {
    return await send();
  } catch (error) {
    if (signal.aborted) throw error;
    if (!CLOSED_UNDER_US.has(errorCode(error) ?? '')) await new Promise((resolve) => setTimeout(resolve, RETRY_BACKOFF_MS));
    return send();
  }
}

/** Runs the commands in one round trip and returns each one's result, in order. */
export async function redisPipeline(commands: readonly RedisCommand[]): Promise<unknown[]> {
  const config = getConfig().redis;
  if (!config.url) throw new StoreUnavailableError('redis', 'UPSTASH_REDIS_REST_URL is not set');
  const token = await resolveRedisToken(config);
  const signal = AbortSignal.timeout(config.timeoutMs);
  const response = await post(`${config.url.replace(/\/$/, '')}/pipeline`, token, JSON.stringify(commands), signal);
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new RedisPipelineError(`Redis REST endpoint answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok) {
    const reason = (answer as { error?: unknown } | null)?.error;
    throw new RedisPipelineError(`Redis REST endpoint answered ${response.status}: ${typeof reason === 'string' ? reason : text.slice(0, 200)}`);
  }
  if (!Array.isArray(answer) || answer.length !== commands.length) {
    throw new RedisPipelineError(`Redis REST endpoint answered ${text.slice(0, 200)} to a pipeline of ${commands.length} commands`);
  }
  return answer.map((entry: { result?: unknown; error?: unknown } | null, index) => {
    if (entry && typeof entry.error === 'string') throw new RedisPipelineError(`Command ${index + 1} [ ${String(commands[index]![0])} ] failed: ${entry.error}`);
    if (!entry || !('result' in entry)) throw new RedisPipelineError(`Command ${index + 1} [ ${String(commands[index]![0])} ] has no result`);
    return entry.result;
  });
}

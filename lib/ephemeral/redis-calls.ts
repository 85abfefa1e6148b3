/**
 * Redis calls for the ephemeral keys. Typing and presence fail soft: while Redis is unreachable a write is
 * dropped and a read answers as if nobody were typing or online (logged, and readiness reports Redis down),
 * so an outage of the ephemeral store never fails a client's request. Multi-key reads are one round trip.
 */
import { log } from '../log.js';
import { getRedis, toRedisError } from '../redis/client.js';

/** MGET keys per call: bounded so a huge channel cannot build one giant request. */
const MGET_CHUNK = 500;

export async function redisCall<T>(call: (redis: Awaited<ReturnType<typeof getRedis>>) => Promise<T>, fallback: T): Promise<T> {
  try {
    return await call(await getRedis());
  } catch (error) {
    log().warn('redis unavailable; ephemeral state degraded', { error: toRedisError(error).detail });
    return fallback;
  }
}

export async function mget(keys: string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  return redisCall(async (redis) => {
    if (keys.length <= MGET_CHUNK) return redis.mget<(string | null)[]>(...keys);
    const pipeline = redis.pipeline();
    for (let start = 0; start < keys.length; start += MGET_CHUNK) pipeline.mget(...keys.slice(start, start + MGET_CHUNK));
    return (await pipeline.exec<(string | null)[][]>()).flat();
  }, keys.map(() => null));
}


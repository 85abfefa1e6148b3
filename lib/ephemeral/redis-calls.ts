/** Redis calls for the ephemeral keys: failures become 503s, and multi-key reads are one round trip. */
import { getRedis, toRedisError } from '../redis/client.js';

/** MGET keys per call: bounded so a huge channel cannot build one giant request. */
const MGET_CHUNK = 500;

export async function redisCall<T>(call: (redis: Awaited<ReturnType<typeof getRedis>>) => Promise<T>): Promise<T> {
  const redis = await getRedis();
  try {
    return await call(redis);
  } catch (error) {
    throw toRedisError(error);
  }
}

export async function mget(keys: string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  return redisCall(async (redis) => {
    if (keys.length <= MGET_CHUNK) return redis.mget<(string | null)[]>(...keys);
    const pipeline = redis.pipeline();
    for (let start = 0; start < keys.length; start += MGET_CHUNK) pipeline.mget(...keys.slice(start, start + MGET_CHUNK));
    return ((await pipeline.exec()) as (string | null)[][]).flat();
  });
}


/**
 * Typing and presence: short-lived keys in Redis over Upstash's HTTP API, `typing:{chat}:{user}` (8 s) and
 * `presence:{user}` (60 s). Reads fetch every key in one round trip (MGET).
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { channelMemberIds } from '../channels/chat-store.js';
import { getRedis, toRedisError } from '../redis/client.js';

export const TYPING_TTL_SECONDS = 8;
export const PRESENCE_TTL_SECONDS = 60;
export const PRESENCE_STATUSES = ['online', 'away', 'offline'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];
/** MGET keys per call: bounded so a huge channel cannot build one giant request. */
const MGET_CHUNK = 500;

async function redisCall<T>(call: (redis: Awaited<ReturnType<typeof getRedis>>) => Promise<T>): Promise<T> {
  const redis = await getRedis();
  try {
    return await call(redis);
  } catch (error) {
    throw toRedisError(error);
  }
}

async function mget(keys: string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  return redisCall(async (redis) => {
    if (keys.length <= MGET_CHUNK) return redis.mget<(string | null)[]>(...keys);
    const pipeline = redis.pipeline();
    for (let start = 0; start < keys.length; start += MGET_CHUNK) pipeline.mget(...keys.slice(start, start + MGET_CHUNK));
    return ((await pipeline.exec()) as (string | null)[][]).flat();
  });
}

export async function startTyping(principal: Principal, channelId: string): Promise<void> {
  await authorizeChannel(principal, channelId);
  await redisCall((redis) => redis.set(`typing:${channelId}:${principal.userId}`, '1', { ex: TYPING_TTL_SECONDS }));
}

export async function whoIsTyping(principal: Principal, channelId: string): Promise<string[]> {
  await authorizeChannel(principal, channelId);
  const members = await channelMemberIds(channelId);
  const values = await mget(members.map((userId) => `typing:${channelId}:${userId}`));
  return members.filter((_, index) => values[index] !== null && values[index] !== undefined);
}

export async function setPresence(principal: Principal, status: PresenceStatus): Promise<void> {
  const key = `presence:${principal.userId}`;
  await redisCall(async (redis) => {
    if (status === 'offline') await redis.del(key);
    else await redis.set(key, status, { ex: PRESENCE_TTL_SECONDS });
  });
}

export async function getPresence(userIds: string[]): Promise<Record<string, PresenceStatus>> {
  const unique = [...new Set(userIds)];
  const values = await mget(unique.map((userId) => `presence:${userId}`));
  return Object.fromEntries(
    unique.map((userId, index) => {
      const value = values[index];
      return [userId, value === 'online' || value === 'away' ? value : 'offline'];
    }),
  );
}

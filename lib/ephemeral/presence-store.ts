/** Presence: `presence:{user}` for 60 s unless renewed; a read fetches every user in one MGET. */
import { mget, redisCall } from './redis-calls.js';

export const PRESENCE_TTL_SECONDS = 60;
export const PRESENCE_STATUSES = ['online', 'away', 'offline'] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/** Offline deletes the key rather than storing it: absent and offline read the same. */
export async function savePresence(userId: string, status: PresenceStatus): Promise<void> {
  const key = `presence:${userId}`;
  await redisCall(async (redis) => {
    if (status === 'offline') await redis.del(key);
    else await redis.set(key, status, { ex: PRESENCE_TTL_SECONDS });
  }, undefined);
}

export async function presenceOf(userIds: string[]): Promise<Record<string, PresenceStatus>> {
  const unique = [...new Set(userIds)];
  const values = await mget(unique.map((userId) => `presence:${userId}`));
  return Object.fromEntries(
    unique.map((userId, index) => {
      const value = values[index];
      return [userId, value === 'online' || value === 'away' ? value : 'offline'];
    }),
  );
}

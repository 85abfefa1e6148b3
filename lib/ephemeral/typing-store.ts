/** Typing: `typing:{chat}:{user}` for 8 s; a read checks every given user's key in one MGET. */
import { mget, redisCall } from './redis-calls.js';

export const TYPING_TTL_SECONDS = 8;

export async function markTyping(channelId: string, userId: string): Promise<void> {
  await redisCall((redis) => redis.set(`typing:${channelId}:${userId}`, '1', { ex: TYPING_TTL_SECONDS }), null);
}

/** Those of `userIds` typing in the channel now, in the given order. */
export async function typingAmong(channelId: string, userIds: string[]): Promise<string[]> {
  const values = await mget(userIds.map((userId) => `typing:${channelId}:${userId}`));
  return userIds.filter((_, index) => values[index] !== null && values[index] !== undefined);
}

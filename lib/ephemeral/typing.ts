/** Typing: `typing:{chat}:{user}` for 8 s; a read checks every member's key in one MGET. */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { channelMemberIds } from '../channels/chat-store.js';
import { mget, redisCall } from './redis-calls.js';

export const TYPING_TTL_SECONDS = 8;

export async function startTyping(principal: Principal, channelId: string): Promise<void> {
  await authorizeChannel(principal, channelId);
  await redisCall((redis) => redis.set(`typing:${channelId}:${principal.userId}`, '1', { ex: TYPING_TTL_SECONDS }), null);
}

export async function whoIsTyping(principal: Principal, channelId: string): Promise<string[]> {
  await authorizeChannel(principal, channelId);
  const members = await channelMemberIds(channelId);
  const values = await mget(members.map((userId) => `typing:${channelId}:${userId}`));
  return members.filter((_, index) => values[index] !== null && values[index] !== undefined);
}


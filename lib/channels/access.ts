/**
 * The member check that guards every channel route: PostgreSQL's participants, or Scylla's replica of them
 * while PostgreSQL is unreachable. Answers are cached for a few seconds in the warm container: a removal takes effect everywhere within ACCESS_CACHE_MS (immediately in the container that
 * made it).
 */
import type { Principal } from '../auth/principal.js';
import { ForbiddenError, NotFoundError, StoreUnavailableError } from '../errors.js';
import { getChatAccess, type ChatAccess } from './chat-store.js';
import { replicatedAccess } from './member-replica.js';

export const ACCESS_CACHE_MS = 10_000;
const MAX_ENTRIES = 10_000;
const cache = new Map<string, { access: ChatAccess | undefined; expiresAt: number }>();

async function lookup(channelId: string, userId: string): Promise<ChatAccess | undefined> {
  const key = `${channelId}:${userId}`;
  const hit = cache.get(key);
  if (hit && hit.expiresAt > Date.now()) return hit.access;
  let access: ChatAccess | undefined;
  try {
    access = await getChatAccess(channelId, userId);
  } catch (error) {
    // PostgreSQL down: answer from Scylla's replica rather than refuse every message write.
    if (!(error instanceof StoreUnavailableError)) throw error;
    access = await replicatedAccess(channelId, userId);
  }
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(key, { access, expiresAt: Date.now() + ACCESS_CACHE_MS });
  return access;
}

export function forgetAccess(channelId: string, userId?: string): void {
  for (const key of cache.keys()) {
    if (key.startsWith(`${channelId}:`) && (!userId || key === `${channelId}:${userId}`)) cache.delete(key);
  }
}

export interface ChannelAccess {
  ownerId: string;
  isOwner: boolean;
}

/** 404 if the channel does not exist, 403 if the caller is neither a member nor a service principal. */
export async function authorizeChannel(principal: Principal, channelId: string): Promise<ChannelAccess> {
  const access = await lookup(channelId, principal.userId);
  if (!access) throw new NotFoundError('Channel not found');
  if (!principal.isService && access.role === null) throw new ForbiddenError('You are not a member of this channel');
  return { ownerId: access.ownerId, isOwner: access.ownerId === principal.userId };
}

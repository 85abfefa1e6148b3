/**
 * The member check that guards every channel route: PostgreSQL's participants, or Scylla's replica of them
 * while PostgreSQL is unreachable. Not cached: a deleted channel must answer 404 on every route at once, in
 * every container, and a removed member lose access at once. The check is one primary-key round trip (see
 * the README, "Channel deletion").
 */
import type { Principal } from '../auth/principal.js';
import { ForbiddenError, NotFoundError, StoreUnavailableError } from '../errors.js';
import { getChatAccess, type ChatAccess } from './chat-store.js';
import { replicatedAccess } from './member-replica.js';

async function lookup(channelId: string, userId: string): Promise<ChatAccess | undefined> {
  try {
    return await getChatAccess(channelId, userId);
  } catch (error) {
    // PostgreSQL down: answer from Scylla's replica (which honours the deletion marker) rather than refuse
    // every message write.
    if (!(error instanceof StoreUnavailableError)) throw error;
    return replicatedAccess(channelId, userId);
  }
}

export interface ChannelAccess {
  ownerId: string;
  isOwner: boolean;
}

/** 404 if the channel does not exist (or is deleted), 403 if the caller is neither a member nor a service. */
export async function authorizeChannel(principal: Principal, channelId: string): Promise<ChannelAccess> {
  const access = await lookup(channelId, principal.userId);
  if (!access) throw new NotFoundError('Channel not found');
  if (!principal.isService && access.role === null) throw new ForbiddenError('You are not a member of this channel');
  return { ownerId: access.ownerId, isOwner: access.ownerId === principal.userId };
}

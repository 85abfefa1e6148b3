/** Channel use cases: create, read, and manage members. */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { authorizeChannel, forgetAccess } from '../channels/access.js';
import { addParticipant, getChat, insertChat, removeParticipant } from '../channels/chat-store.js';
import { forgetReplicatedMember, replicateMember } from '../channels/member-replica.js';
import { getChannelMetadata, putChannelMetadata } from '../channels/metadata-store.js';
import { toChannelView, type ChannelRecord, type ChannelView } from '../channels/model.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors.js';

/**
 * Writes Scylla's denormalised row first, then the PostgreSQL rows that make the channel exist. If the
 * second step fails, the orphan metadata row is invisible (every route checks PostgreSQL first).
 */
export async function createChannel(
  principal: Principal,
  input: { name: string; telegramChatId?: number | undefined },
): Promise<ChannelView> {
  const channel: ChannelRecord = {
    id: randomUUID(),
    name: input.name,
    ownerId: principal.userId,
    telegramChatId: input.telegramChatId ?? null,
    createdAt: new Date(),
    lastMessageId: null,
  };
  await putChannelMetadata(channel);
  await insertChat(channel);
  await replicateMember(channel.id, channel.ownerId, 'owner');
  return toChannelView(channel);
}

export async function getChannel(principal: Principal, channelId: string): Promise<ChannelView> {
  await authorizeChannel(principal, channelId);
  const metadata = await getChannelMetadata(channelId);
  if (metadata) return toChannelView(metadata);
  // PostgreSQL has the channel but Scylla lost or never got its row: rebuild it from the authority.
  const chat = await getChat(channelId);
  if (!chat) throw new NotFoundError('Channel not found');
  const rebuilt: ChannelRecord = { ...chat, lastMessageId: null };
  await putChannelMetadata(rebuilt);
  return toChannelView((await getChannelMetadata(channelId)) ?? rebuilt);
}

export async function addMember(principal: Principal, channelId: string, userId: string): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  if (!principal.isService && !access.isOwner) throw new ForbiddenError('Only the channel owner may add members');
  await addParticipant(channelId, userId);
  await replicateMember(channelId, userId, 'member');
  forgetAccess(channelId, userId);
}

export async function removeMember(principal: Principal, channelId: string, userId: string): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  if (!principal.isService && !access.isOwner && principal.userId !== userId) {
    throw new ForbiddenError('Only the owner, a service or the member themself may remove a member');
  }
  if (userId === access.ownerId) throw new ConflictError('The owner cannot be removed from the channel');
  await removeParticipant(channelId, userId);
  await forgetReplicatedMember(channelId, userId);
  forgetAccess(channelId, userId);
}

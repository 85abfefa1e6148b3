/** Channel use cases: create, read, rename, delete, link to Telegram, list (mine, members), manage members. */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { recordChannelActivity } from '../channels/activity.js';
import {
  ACTIVITY_PRECISION_MS,
  addParticipant,
  getChat,
  insertChat,
  linkTelegramChat,
  markChatDeleted,
  participantsPage,
  removeParticipant,
  renameChat,
  userChatsPage,
  type ActivityKey,
} from '../channels/chat-store.js';
import { forgetReplicatedMember, replicateMember } from '../channels/member-replica.js';
import { EVERYONE } from '../changes/model.js';
import {
  getChannelMetadata,
  markChannelMetadataDeleted,
  putChannelMetadata,
  renameChannelMetadata,
  setChannelTelegramChat,
} from '../channels/metadata-store.js';
import { toChannelView, type ChannelRecord, type ChannelView } from '../channels/model.js';
import { forgetLinkedChat, recordChatEverLinked } from '../channels/telegram-links.js';
import { ConflictError, ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import { snowflakeTime } from '../ids/snowflake.js';
import { purgeMentions } from '../mentions/purge.js';
import { countMentionsAfter } from '../mentions/store.js';
import { countUnread, type UnreadCount } from '../messages/unread.js';
import { deletePosition, readPosition } from '../read-positions/store.js';
import { mapConcurrently } from '../scylla/execute.js';
import { commitWithPostgresChange } from './changes.js';
import { requestPurge } from './channel-purge.js';
import { stopListening } from './push.js';

/**
 * Writes Scylla's denormalised row first, then the PostgreSQL rows that make the channel exist. If the
 * second step fails, the orphan metadata row is invisible (every route checks PostgreSQL first).
 */
export async function createChannel(
  principal: Principal,
  input: { name: string; telegramChatId?: number | undefined },
): Promise<ChannelView> {
  // Linking a Telegram chat is the bot operator's act (POST /channels/{id}/telegram-link, or here).
  if (input.telegramChatId !== undefined && !principal.isService) {
    throw new InvalidRequestError('telegram_chat_id: only a service principal may link a Telegram chat', 'forbidden_field');
  }
  const channel: ChannelRecord = {
    id: randomUUID(),
    name: input.name,
    ownerId: principal.userId,
    telegramChatId: input.telegramChatId ?? null,
    createdAt: new Date(),
    lastMessageId: null,
  };
  await putChannelMetadata(channel);
  if (channel.telegramChatId !== null) await recordChatEverLinked(channel.id, channel.telegramChatId);
  await insertChat(channel);
  await replicateMember(channel.id, channel.ownerId, 'owner');
  return toChannelView(channel);
}

export async function getChannel(principal: Principal, channelId: string): Promise<ChannelView> {
  await authorizeChannel(principal, channelId);
  return currentChannel(channelId);
}

/** The channel as channel_metadata holds it, rebuilt from PostgreSQL when Scylla lost the row. */
async function currentChannel(channelId: string): Promise<ChannelView> {
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
  await commitWithPostgresChange(
    { channelId, type: 'member.added', audience: EVERYONE, body: { user_id: userId } },
    (query) => addParticipant(channelId, userId, query),
    (added) => added,
  );
  await replicateMember(channelId, userId, 'member');
}

export async function removeMember(principal: Principal, channelId: string, userId: string): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  if (!principal.isService && !access.isOwner && principal.userId !== userId) {
    throw new ForbiddenError('Only the owner, a service or the member themself may remove a member');
  }
  if (userId === access.ownerId) throw new ConflictError('The owner cannot be removed from the channel');
  await commitWithPostgresChange(
    { channelId, type: 'member.removed', audience: EVERYONE, body: { user_id: userId } },
    (query) => removeParticipant(channelId, userId, query),
    (removed) => removed,
  );
  await Promise.all([forgetReplicatedMember(channelId, userId), stopListening(channelId, userId)]);
  // A former member's rows go with the membership: the purge of the channel would find them in
  // channel_readers too, but nothing reads them from now on.
  await Promise.all([deletePosition(channelId, userId), purgeMentions(channelId, [userId], 1)]);
}

async function requireOwnerOrService(principal: Principal, channelId: string, action: string): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  if (!principal.isService && !access.isOwner) throw new ForbiddenError(`Only the channel owner or a service may ${action}`);
}

/** PATCH: the name in PostgreSQL (the authority), then in channel_metadata. */
export async function updateChannel(principal: Principal, channelId: string, input: { name?: string | undefined }): Promise<ChannelView> {
  await requireOwnerOrService(principal, channelId, 'change the channel');
  // PostgreSQL is the authority on the name: Scylla's copy may trail it (a rename whose copy failed), and
  // comparing with the copy would take a real change back for a repeat.
  const [before, chat] = await Promise.all([currentChannel(channelId), getChat(channelId)]);
  if (!chat) throw new NotFoundError('Channel not found');
  // The same name again is no change: nothing recorded (the copy is made right if it trails).
  if (input.name === undefined || chat.name === input.name) {
    if (before.name !== chat.name) await renameChannelMetadata(channelId, chat.name);
    return { ...before, name: chat.name };
  }
  const name = input.name;
  const channel: ChannelView = { ...before, name };
  const renamed = await commitWithPostgresChange(
    { channelId, type: 'channel.updated', audience: EVERYONE, body: { channel } },
    (query) => renameChat(channelId, name, query),
    (done) => done,
  );
  if (!renamed) throw new NotFoundError('Channel not found');
  await renameChannelMetadata(channelId, name);
  return channel;
}

/**
 * DELETE: the purge is requested (queued, when there is a queue), then the channel is marked deleted in
 * PostgreSQL, which the member check of every route reads uncached (404 at once, in every container), and in
 * channel_metadata, which the check reads while PostgreSQL is down. The stores are emptied in the background.
 */
export async function deleteChannel(principal: Principal, channelId: string): Promise<void> {
  await requireOwnerOrService(principal, channelId, 'delete the channel');
  const start = await requestPurge(channelId);
  // Followers learn it from the push; the feed itself answers 404 from now on, and its rows expire with their TTL.
  const marked = await commitWithPostgresChange(
    { channelId, type: 'channel.deleted', audience: EVERYONE, body: {} },
    (query) => markChatDeleted(channelId, query),
    (done) => done !== undefined,
  );
  if (!marked) throw new NotFoundError('Channel not found');
  await markChannelMetadataDeleted(channelId, new Date());
  // This container stops routing the chat at once; others within their 30 s cache, and their ingestion
  // checks channel_metadata's mark (the purge waits longer than that cache).
  if (marked.releasedTelegramChatId !== null) forgetLinkedChat(marked.releasedTelegramChatId);
  start();
}

/** Service principals only: links a Telegram chat to the channel (409 when another channel has it). */
export async function linkChannelToTelegram(principal: Principal, channelId: string, telegramChatId: number): Promise<ChannelView> {
  await authorizeChannel(principal, channelId);
  if (!principal.isService) throw new ForbiddenError('Only a service principal may link a Telegram chat');
  const [before, chat] = await Promise.all([currentChannel(channelId), getChat(channelId)]);
  if (!chat) throw new NotFoundError('Channel not found');
  // Linking the chat already linked (PostgreSQL, the authority) is no change: nothing recorded.
  if (chat.telegramChatId === telegramChatId) {
    if (before.telegram_chat_id !== telegramChatId) await setChannelTelegramChat(channelId, telegramChatId);
    return { ...before, telegram_chat_id: telegramChatId };
  }
  // Named before the link, so the purge finds this chat's mappings even after a re-link to another chat.
  await recordChatEverLinked(channelId, telegramChatId);
  const channel: ChannelView = { ...before, telegram_chat_id: telegramChatId };
  const linked = await commitWithPostgresChange(
    { channelId, type: 'channel.updated', audience: EVERYONE, body: { channel } },
    (query) => linkTelegramChat(channelId, telegramChatId, query),
    (done) => done,
  );
  if (!linked) throw new NotFoundError('Channel not found');
  await setChannelTelegramChat(channelId, telegramChatId);
  forgetLinkedChat(telegramChatId);
  return channel;
}

const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function decodeCursor<T>(cursor: string, valid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (valid(value)) return value;
  } catch {
    /* falls through to the 400 */
  }
  throw new InvalidRequestError('cursor: not a cursor this route returned');
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The largest time a JavaScript Date holds (ECMAScript: 8.64e15 ms after 1970). */
const MAX_DATE_MS = 8.64e15;

export interface MemberView {
  user_id: string;
  role: 'owner' | 'member';
  joined_at: string;
}

/** Members and services: the channel's members in user id order (Discord's member list pages by user id). */
export async function listMembers(
  principal: Principal,
  channelId: string,
  limit: number,
  cursor: string | undefined,
): Promise<{ members: MemberView[]; next_cursor: string | null }> {
  await authorizeChannel(principal, channelId);
  const after = cursor === undefined ? null : decodeCursor(cursor, (value): value is { u: string } => typeof (value as { u?: unknown })?.u === 'string' && UUID.test((value as { u: string }).u)).u;
  const page = await participantsPage(channelId, after, limit + 1);
  const members = page.slice(0, limit).map((member) => ({ user_id: member.userId, role: member.role, joined_at: member.joinedAt.toISOString() }));
  return { members, next_cursor: page.length > limit ? encodeCursor({ u: members.at(-1)!.user_id }) : null };
}

/** Unread and mention counts stop here (and say so), as GET /channels/{id}/read-position does. */
export const COUNT_CAP = 1000;

export interface ChannelWithCountsView extends ChannelView {
  read_message_id: string | null;
  unread_count: number;
  unread_capped: boolean;
  mention_count: number;
}

/** Channels of a page read side by side (a page is at most 100). */
const PAGE_CONCURRENCY = 64;

/**
 * The user's channels, most recent activity first (PostgreSQL's chats.last_activity_at, one keyset query),
 * each with that user's read position, unread count and mention count. Then, per channel and every channel at
 * once, single-partition Scylla reads only: its metadata and the user's read position side by side; when
 * messages lie past the position, its mention count and unread count side by side. A page costs the keyset
 * query plus two Scylla round trips (three or so for a reader several buckets behind), not a sum over channels.
 */
export async function listMyChannels(
  principal: Principal,
  input: { userId?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<{ channels: ChannelWithCountsView[]; next_cursor: string | null }> {
  if (principal.isService && input.userId === undefined) throw new InvalidRequestError('user_id: a service principal must name whose channels to list');
  if (!principal.isService && input.userId !== undefined && input.userId !== principal.userId) {
    throw new ForbiddenError('Only a service principal may list another user\'s channels');
  }
  const userId = input.userId ?? principal.userId;
  const after: ActivityKey | null =
    input.cursor === undefined
      ? null
      : (({ t, i }) => ({ at: new Date(t), id: i }))(
          decodeCursor(input.cursor, (value): value is { t: number; i: string } => {
            const candidate = value as { t?: unknown; i?: unknown } | null;
            // t becomes a Date and then a PostgreSQL timestamptz: outside 1970..year 275760 it is an Invalid
            // Date (a 500 from PostgreSQL), and no channel was active before 1970.
            const t = candidate?.t;
            return Number.isSafeInteger(t) && (t as number) >= 0 && (t as number) <= MAX_DATE_MS && typeof candidate?.i === 'string' && UUID.test(candidate.i);
          }),
        );
  const page = await userChatsPage(userId, after, input.limit + 1);
  const chats = page.slice(0, input.limit);
  const none: UnreadCount = { count: 0, capped: false };
  const channels = await mapConcurrently(chats, PAGE_CONCURRENCY, async (chat): Promise<ChannelWithCountsView> => {
    const [metadata, position] = await Promise.all([getChannelMetadata(chat.id), readPosition(chat.id, userId)]);
    const lastMessageId = metadata?.lastMessageId ?? null;
    const behind = lastMessageId !== null && (position === null || lastMessageId > position);
    const [unread, mentions] = behind
      ? await Promise.all([
          countUnread(chat.id, position, lastMessageId, COUNT_CAP),
          countMentionsAfter(chat.id, userId, position, COUNT_CAP),
          // A bump lost to a PostgreSQL outage is repaired when the channel is next seen (the stored activity
          // may trail the newest message by the coalescing window by design: that is not a lost bump).
          snowflakeTime(lastMessageId) > chat.lastActivityAt.getTime() + ACTIVITY_PRECISION_MS ? recordChannelActivity(chat.id, lastMessageId) : undefined,
        ])
      : [none, none];
    return {
      ...toChannelView({ ...chat, lastMessageId }),
      read_message_id: position === null ? null : position.toString(),
      unread_count: unread.count,
      unread_capped: unread.capped,
      mention_count: mentions.count,
    };
  });
  const last = chats.at(-1);
  return { channels, next_cursor: page.length > input.limit && last ? encodeCursor({ t: last.lastActivityAt.getTime(), i: last.id }) : null };
}

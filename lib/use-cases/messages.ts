/**
 * Message use cases: create (with nonce dedup), get, list, edit, delete. A message write also moves the
 * channel's last message id and the search index; a delete also drops the message's pin.
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { advanceLastMessageId } from '../channels/metadata-store.js';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import { nextMessageId } from '../ids/worker-lease.js';
import { requireLiveMessage } from '../messages/live.js';
import { toMessageView, type MessageRecord, type MessageView } from '../messages/model.js';
import { claimNonce } from '../messages/nonce-store.js';
import { getMessageRecord, insertMessage, softDeleteMessage, updateContent } from '../messages/store.js';
import { listAfter, listAround, listBefore } from '../messages/timeline.js';
import { deletePin } from '../pins/store.js';
import { reindex, unindex } from '../search/indexer.js';

export interface CreateMessageInput {
  content: string;
  replyToId?: bigint | undefined;
  nonce?: string | undefined;
  authorId?: string | undefined;
}

export interface CreateMessageResult {
  message: MessageView;
  /** False when a repeated nonce returned the first message instead of creating one. */
  created: boolean;
}

/**
 * Stores a message and everything that follows from it (bucket index, last message, search index), all
 * at once: a create costs one round trip, not three. If the message write fails, the caller gets the error;
 * a last_message_id or index entry left pointing at it is harmless (reads go to the message row) and the
 * client's retry writes the same row. Telegram ingestion stores its messages through here too.
 */
export async function persistMessage(message: MessageRecord, writeTimestampMicros?: number): Promise<void> {
  await Promise.all([
    insertMessage(message, writeTimestampMicros),
    advanceLastMessageId(message.channelId, message.id),
    reindex(message),
  ]);
}

export async function createMessage(
  principal: Principal,
  channelId: string,
  input: CreateMessageInput,
): Promise<CreateMessageResult> {
  await authorizeChannel(principal, channelId);
  if (input.authorId && input.authorId !== principal.userId && !principal.isService) {
    throw new ForbiddenError('Only a service principal may set author_id');
  }
  const authorId = input.authorId ?? principal.userId;
  const replyToId = input.replyToId ?? null;
  if (replyToId !== null) {
    const target = await getMessageRecord(channelId, replyToId);
    if (!target || target.deleted) throw new InvalidRequestError('reply_to_id names no message in this channel', 'unknown_reply_target');
  }
  const id = await nextMessageId();
  let message: MessageRecord = {
    channelId,
    id,
    authorId,
    content: input.content,
    editedAt: null,
    replyToId,
    source: 'app',
    telegram: null,
    deleted: false,
  };
  if (input.nonce === undefined) {
    await persistMessage(message);
    return { message: toMessageView(message), created: true };
  }

  const claim = await claimNonce(channelId, authorId, input.nonce, message);
  if (claim.claimed) {
    await persistMessage(message);
    return { message: toMessageView(message), created: true };
  }
  // A retry: answer with the first request's message. If that request died between its claim and its
  // write, finish the write for it from the claim (same id, same content: an idempotent upsert).
  const existing = await getMessageRecord(channelId, claim.messageId);
  if (existing) {
    if (existing.deleted) throw new NotFoundError('The message created with this nonce was deleted');
    return { message: toMessageView(existing), created: false };
  }
  message = { ...message, id: claim.messageId, content: claim.content, replyToId: claim.replyToId };
  await persistMessage(message);
  return { message: toMessageView(message), created: false };
}

export async function getMessage(principal: Principal, channelId: string, messageId: bigint): Promise<MessageView> {
  await authorizeChannel(principal, channelId);
  return toMessageView(await requireLiveMessage(channelId, messageId));
}

export type ListAnchor = { before: bigint } | { after: bigint } | { around: bigint } | Record<string, never>;

export async function listMessages(
  principal: Principal,
  channelId: string,
  anchor: ListAnchor,
  limit: number,
): Promise<MessageView[]> {
  await authorizeChannel(principal, channelId);
  let records: MessageRecord[];
  if ('after' in anchor) records = await listAfter(channelId, anchor.after, limit);
  else if ('around' in anchor) {
    records = await listAround(channelId, anchor.around, limit, await getMessageRecord(channelId, anchor.around));
  } else records = await listBefore(channelId, 'before' in anchor ? anchor.before : undefined, limit);
  return records.map(toMessageView);
}

export async function editMessage(
  principal: Principal,
  channelId: string,
  messageId: bigint,
  content: string,
): Promise<MessageView> {
  await authorizeChannel(principal, channelId);
  const message = await requireLiveMessage(channelId, messageId);
  if (message.authorId !== principal.userId) throw new ForbiddenError('Only the author may edit a message');
  const editedAt = new Date();
  await updateContent(channelId, messageId, content, editedAt);
  const edited = { ...message, content, editedAt };
  await reindex(edited);
  return toMessageView(edited);
}

export async function deleteMessage(principal: Principal, channelId: string, messageId: bigint): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  const message = await requireLiveMessage(channelId, messageId);
  if (message.authorId !== principal.userId && !access.isOwner && !principal.isService) {
    throw new ForbiddenError('Only the author, the channel owner or a service may delete a message');
  }
  await softDeleteMessage(channelId, messageId);
  await Promise.all([unindex(channelId, messageId), deletePin(channelId, messageId)]);
}

/**
 * Message use cases: create (with nonce dedup, from content or a template), get, list, edit, delete, bulk
 * delete, and a message's replies. A message write also moves the channel's last message id, the mention rows
 * and its parent's thread, and leaves a search-outbox row from which the search index and the channel's
 * activity follow; a delete undoes each of those and drops the message's pin.
 */
import type { Principal } from '../auth/principal.js';
import { authorizeChannel } from '../channels/access.js';
import { membersAmong } from '../channels/members-among.js';
import { lastMessageIdStatement } from '../channels/metadata-store.js';
import { EVERYONE } from '../changes/model.js';
import { ForbiddenError, InvalidRequestError, NotFoundError } from '../errors.js';
import { nextMessageId } from '../ids/worker-lease.js';
import { recordMentions, removeMentions } from '../mentions/store.js';
import { requireLiveMessage } from '../messages/live.js';
import { toMessageView, type Attachment, type MessageRecord, type MessageView } from '../messages/model.js';
import { claimNonce } from '../messages/nonce-store.js';
import { linkReply, replyCountOf, replyCountsOf, replyIds, unlinkReply } from '../messages/replies.js';
import { getMessageRecord, insertMessage, softDeleteMessage, updateContent } from '../messages/store.js';
import { listAfter, listAround, listBefore } from '../messages/timeline.js';
import { deletePin } from '../pins/store.js';
import { searchOutboxStatement } from '../search/outbox.js';
import { commitWithChange, isFreshId } from './changes.js';
import { renderTemplate } from './templates.js';

export interface CreateMessageInput {
  /** The content, or a template of the channel to fill with `variables` (exactly one of the two). */
  content?: string | undefined;
  template?: { id: string; variables: Record<string, string> } | undefined;
  replyToId?: bigint | undefined;
  nonce?: string | undefined;
  authorId?: string | undefined;
  mentions?: string[] | undefined;
  attachments?: Attachment[] | undefined;
}

export interface CreateMessageResult {
  message: MessageView;
  /** False when a repeated nonce returned the first message instead of creating one. */
  created: boolean;
}

/** Who gets a mention row: the mentioned users, less the author (a self-mention is no notification). */
function mentionTargets(message: Pick<MessageRecord, 'authorId' | 'mentions'>): string[] {
  return (message.mentions ?? []).filter((userId) => userId !== message.authorId);
}

/**
 * Puts a reply in its parent's thread. The conditional insert decides whether the reply count moves, so
 * every path that may be first to store a reply (the creator, a nonce retry, a Telegram redelivery) calls
 * this, and the count moves once.
 */
export async function ensureReplyLinked(message: Pick<MessageRecord, 'channelId' | 'id' | 'replyToId'>): Promise<void> {
  if (message.replyToId !== null) await linkReply(message.channelId, message.replyToId, message.id);
}

/**
 * Stores a message and everything that follows from it at once: the message row, its bucket index entry, the
 * channel's last_message_id, its `message.created` change and its search-outbox row are one logged batch (a
 * crash loses all or none); then, only once the message row is written, its mention rows and its link into its
 * parent's thread, because both are counted without reading the message row (a mention count, a reply count):
 * a counted mention or reply always exists. Nothing here waits for PostgreSQL: the search index and the
 * channel's last activity follow from the change (the indexer on the changes bus), and the reconciler's sweep of
 * the search outbox applies whatever the indexer missed (lib/search/outbox.ts). If the message write fails, the
 * caller gets the error; a last_message_id or index entry left pointing at it is harmless (reads go to the
 * message row) and the client's retry writes the same row. Telegram ingestion stores its messages through here
 * too.
 */
export async function persistMessage(message: MessageRecord, writeTimestampMicros?: number): Promise<void> {
  await commitWithChange(
    { channelId: message.channelId, type: 'message.created', audience: EVERYONE, body: { message: toMessageView(message) } },
    (change, deadlineMs) =>
      insertMessage(message, writeTimestampMicros, {
        statements: [
          change,
          lastMessageIdStatement(message.channelId, message.id),
          searchOutboxStatement(message.channelId, message.id, 'index', writeTimestampMicros),
        ],
        options: { readTimeout: deadlineMs },
      }),
    // An app message's id was minted moments ago and is unique: as the change's id too, a retry completing the
    // same write (nonce) writes the same change row instead of a second one. A Telegram id is Telegram's
    // time, and an old id would land behind followers: those get a fresh one.
    message.source === 'app' && isFreshId(message.id) ? message.id : undefined,
  );
  await Promise.all([recordMentions(message.channelId, message.id, mentionTargets(message)), ensureReplyLinked(message)]);
}

let lastEditMicros = 0;

/** A write timestamp in microseconds for an edit, increasing within the process (as the driver's own). */
function editTimestampMicros(editedAt: Date): number {
  lastEditMicros = Math.max(lastEditMicros + 1, editedAt.getTime() * 1000);
  return lastEditMicros;
}

/** Every mentioned user must be a member of the channel (one query for all of them). */
async function checkMentions(channelId: string, mentions: readonly string[]): Promise<void> {
  if (mentions.length === 0) return;
  const members = await membersAmong(channelId, mentions);
  const strangers = mentions.filter((userId) => !members.has(userId));
  if (strangers.length > 0) {
    throw new InvalidRequestError(`mentions names users who are not members of this channel: ${strangers.join(', ')}`, 'mention_not_member');
  }
}

async function checkReplyTarget(channelId: string, replyToId: bigint | null): Promise<void> {
  if (replyToId === null) return;
  const target = await getMessageRecord(channelId, replyToId);
  if (!target || target.deleted) throw new InvalidRequestError('reply_to_id names no message in this channel', 'unknown_reply_target');
}

const unique = (values: readonly string[] | undefined) => [...new Set(values ?? [])];

/** The API shape of one message, with its reply count. */
async function viewOf(message: MessageRecord): Promise<MessageView> {
  return toMessageView(message, await replyCountOf(message.channelId, message.id));
}

/**
 * The API shapes of messages of one channel, with their reply counts: one single-partition read per bucket
 * the messages span (a page of 50 usually spans one or two), in parallel, not one read per message.
 */
export async function viewsOf(channelId: string, messages: readonly MessageRecord[]): Promise<MessageView[]> {
  if (messages.length === 0) return [];
  const counts = await replyCountsOf(
    channelId,
    messages.map((message) => message.id),
  );
  return messages.map((message) => toMessageView(message, counts.get(message.id) ?? 0));
}

/**
 * What must pass before a create writes anything, all started at once (one round trip deep, not four): the
 * channel access check, the write rate limit's verdict, the new id, and the checks the input asks for (the
 * template, the reply target, the mentioned members). When several fail, the caller learns the most basic
 * first: no access (403/404) before over the limit (429) before a bad reference (400), so the answer never
 * depends on which store answered first and a non-member learns nothing about the channel's messages.
 */
async function prepareCreate(
  principal: Principal,
  channelId: string,
  input: CreateMessageInput,
  admitted: () => Promise<void>,
): Promise<{ id: bigint; content: string }> {
  const replyToId = input.replyToId ?? null;
  const [access, admission, id, content, replyTarget, mentioned] = await Promise.allSettled([
    authorizeChannel(principal, channelId),
    admitted(),
    nextMessageId(),
    input.content ?? renderTemplate(principal, channelId, input.template!.id, input.template!.variables),
    checkReplyTarget(channelId, replyToId),
    checkMentions(channelId, unique(input.mentions)),
  ]);
  for (const outcome of [access, admission, id, content, replyTarget, mentioned]) {
    if (outcome.status === 'rejected') throw outcome.reason;
  }
  return { id: (id as PromiseFulfilledResult<bigint>).value, content: (content as PromiseFulfilledResult<string>).value };
}

/**
 * Creates a message. `admitted` is the write rate limit's verdict (the request pipeline's admission): awaited
 * beside the preparation, before anything is written.
 */
export async function createMessage(
  principal: Principal,
  channelId: string,
  input: CreateMessageInput,
  admitted: () => Promise<void>,
): Promise<CreateMessageResult> {
  if (input.authorId && input.authorId !== principal.userId && !principal.isService) {
    // Decided from the token alone; the channel check still comes first for a non-member.
    await authorizeChannel(principal, channelId);
    throw new ForbiddenError('Only a service principal may set author_id');
  }
  const authorId = input.authorId ?? principal.userId;
  const replyToId = input.replyToId ?? null;
  const mentions = unique(input.mentions);
  const { id, content } = await prepareCreate(principal, channelId, input, admitted);
  let message: MessageRecord = {
    channelId,
    id,
    authorId,
    content,
    editedAt: null,
    replyToId,
    source: 'app',
    telegram: null,
    deleted: false,
    mentions,
    attachments: input.attachments ?? [],
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
  // write, finish the write for it from the claim (same id, content, reply target, mentions, attachments:
  // an idempotent upsert). Either way the thread link is made sure of, which moves the count only if the
  // first request did not get that far.
  const existing = await getMessageRecord(channelId, claim.messageId);
  if (existing) {
    if (existing.deleted) throw new NotFoundError('The message created with this nonce was deleted');
    await ensureReplyLinked(existing);
    return { message: await viewOf(existing), created: false };
  }
  message = {
    ...message,
    id: claim.messageId,
    content: claim.content,
    replyToId: claim.replyToId,
    mentions: claim.mentions,
    attachments: claim.attachments,
  };
  await persistMessage(message);
  return { message: await viewOf(message), created: false };
}

export async function getMessage(principal: Principal, channelId: string, messageId: bigint): Promise<MessageView> {
  await authorizeChannel(principal, channelId);
  const [message, replyCount] = await Promise.all([requireLiveMessage(channelId, messageId), replyCountOf(channelId, messageId)]);
  return toMessageView(message, replyCount);
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
  return viewsOf(channelId, records);
}

export interface EditMessageInput {
  content?: string | undefined;
  /** Replaces the mentions; undefined keeps them. */
  mentions?: string[] | undefined;
}

export async function editMessage(
  principal: Principal,
  channelId: string,
  messageId: bigint,
  input: EditMessageInput,
): Promise<MessageView> {
  await authorizeChannel(principal, channelId);
  const mentions = input.mentions === undefined ? undefined : unique(input.mentions);
  const [message, replyCount] = await Promise.all([
    requireLiveMessage(channelId, messageId),
    replyCountOf(channelId, messageId),
    checkMentions(channelId, mentions ?? []),
  ]);
  if (message.authorId !== principal.userId) throw new ForbiddenError('Only the author may edit a message');
  const editedAt = new Date();
  // The message row and the edit's mention rows share one write timestamp, so of two edits' writes to the
  // same mention row the later edit's wins in whatever order they land.
  const at = editTimestampMicros(editedAt);
  const content = input.content ?? message.content;
  const edited: MessageRecord = { ...message, content, editedAt, mentions: mentions ?? message.mentions ?? [] };
  await commitWithChange(
    { channelId, type: 'message.updated', audience: EVERYONE, body: { message: toMessageView(edited, replyCount) } },
    (change, deadlineMs) =>
      updateContent(channelId, messageId, { content, editedAt, mentions }, at, {
        // The outbox row at the edit's own timestamp: its write time is the edit's, which the sweep compares.
        statements: [change, searchOutboxStatement(channelId, messageId, 'index', at)],
        options: { readTimeout: deadlineMs },
      }),
  );
  const work: Promise<void>[] = [];
  let added: string[] = [];
  if (mentions !== undefined) {
    const before = new Set(mentionTargets(message));
    const after = new Set(mentionTargets(edited));
    added = [...after].filter((userId) => !before.has(userId));
    work.push(removeMentions(channelId, messageId, [...before].filter((userId) => !after.has(userId)), at), recordMentions(channelId, messageId, added, at));
  }
  await Promise.all(work);
  if (added.length > 0) await dropMentionsOfALostEdit(channelId, messageId, added, at);
  return toMessageView(edited, replyCount);
}

/**
 * Two edits of one message that run at once each diff against the mentions they read, so a user only the
 * losing edit added would keep a mention row (counted, never read against the message row) that the message no
 * longer names. After writing, an edit reads the row back: if a later edit (or a delete) replaced its
 * mentions, it removes the rows it added that the row no longer names, at its own write timestamp, which
 * shadows its own insert and never a later edit's. What remains: an edit that read before this edit's
 * update and wrote after this edit's read-back; the effect is bounded to one extra mention of that message for
 * that user, gone once the user's read position passes the message.
 */
async function dropMentionsOfALostEdit(channelId: string, messageId: bigint, added: readonly string[], at: number): Promise<void> {
  const current = await getMessageRecord(channelId, messageId);
  const named = new Set(current && !current.deleted ? mentionTargets(current) : []);
  const lost = added.filter((userId) => !named.has(userId));
  if (lost.length > 0) await removeMentions(channelId, messageId, lost, at);
}

/**
 * Everything a delete does, for a message known to be live: the soft delete with its `message.deleted` change
 * and its search-outbox row (one logged batch; the indexer turns the search row into a deleted marker), then
 * the pin, the mention rows and its place in its parent's thread (whose count moves only if this call removed
 * it).
 */
async function removeMessage(message: MessageRecord): Promise<void> {
  const { channelId, id } = message;
  await commitWithChange({ channelId, type: 'message.deleted', audience: EVERYONE, body: { message_id: id.toString() } }, (change, deadlineMs) =>
    softDeleteMessage(channelId, id, { statements: [change, searchOutboxStatement(channelId, id, 'delete')], options: { readTimeout: deadlineMs } }),
  );
  await Promise.all([
    deletePin(channelId, id),
    removeMentions(channelId, id, mentionTargets(message)),
    message.replyToId === null ? undefined : unlinkReply(channelId, message.replyToId, id),
  ]);
}

export async function deleteMessage(principal: Principal, channelId: string, messageId: bigint): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  const message = await requireLiveMessage(channelId, messageId);
  if (message.authorId !== principal.userId && !access.isOwner && !principal.isService) {
    throw new ForbiddenError('Only the author, the channel owner or a service may delete a message');
  }
  await removeMessage(message);
}

/** Deletions run at once per bulk request: enough parallelism, without a burst of 100 × 5 statements. */
const BULK_PARALLEL = 20;

/**
 * Deletes up to 100 messages of the channel (owner or service). Ids of other channels (absent from this
 * channel's partitions) or already deleted are ignored; each deletion does what a single delete does.
 */
export async function bulkDeleteMessages(principal: Principal, channelId: string, messageIds: readonly bigint[]): Promise<void> {
  const access = await authorizeChannel(principal, channelId);
  if (!access.isOwner && !principal.isService) throw new ForbiddenError('Only the channel owner or a service may bulk-delete messages');
  const ids = [...new Set(messageIds)];
  for (let start = 0; start < ids.length; start += BULK_PARALLEL) {
    const records = await Promise.all(ids.slice(start, start + BULK_PARALLEL).map((id) => getMessageRecord(channelId, id)));
    await Promise.all(records.filter((record) => record !== undefined && !record.deleted).map((record) => removeMessage(record!)));
  }
}

/** Index rows read ahead per round, so a few replies deleted mid-crash do not cost another round. */
const REPLY_ROUNDS = 5;

/**
 * The thread of a live message, oldest first: one page of its reply index (ids after `cursor`), then the
 * replies themselves in parallel single-partition reads. `next_cursor` is the last reply returned while the
 * index holds more.
 */
export async function listReplies(
  principal: Principal,
  channelId: string,
  parentId: bigint,
  input: { limit: number; cursor?: bigint | undefined },
): Promise<{ messages: MessageView[]; next_cursor: string | null }> {
  await authorizeChannel(principal, channelId);
  await requireLiveMessage(channelId, parentId);
  const found: MessageRecord[] = [];
  let after = input.cursor ?? null;
  let more = false;
  for (let round = 0; round < REPLY_ROUNDS && found.length < input.limit; round++) {
    const room = input.limit - found.length;
    const ids = await replyIds(channelId, parentId, after, room + 1);
    const taken = ids.slice(0, room);
    const records = await Promise.all(taken.map((id) => getMessageRecord(channelId, id)));
    for (const record of records) if (record && !record.deleted) found.push(record);
    more = ids.length > taken.length;
    if (taken.length > 0) after = taken[taken.length - 1]!;
    if (!more) break;
  }
  return {
    messages: await viewsOf(channelId, found),
    next_cursor: more && after !== null ? after.toString() : null,
  };
}

/**
 * The `messages` table and its bucket index (`channel_buckets`): every statement a message read or write
 * sends. No other module outside lib/messages/ queries these tables; timeline.ts walks them with these
 * statements.
 */
import cassandra from 'cassandra-driver';
import { bucketOf } from '../ids/snowflake.js';
import { read, readDecisive, writeAtomically, type Statement } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';
import type { Attachment, MessageRecord } from './model.js';

const { Long, unset } = cassandra.types;

const COLUMNS =
  'message_id, author_id, content, edited_at, reply_to_id, source, telegram_chat_id, telegram_message_id, telegram_thread_id, deleted, mentions, attachments';

export const STATEMENTS = {
  insert:
    'INSERT INTO messages (channel_id, bucket, message_id, author_id, content, reply_to_id, source, telegram_chat_id, telegram_message_id, telegram_thread_id, edited_at, mentions, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  insertAt:
    'INSERT INTO messages (channel_id, bucket, message_id, author_id, content, reply_to_id, source, telegram_chat_id, telegram_message_id, telegram_thread_id, edited_at, mentions, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?',
  indexBucket: 'INSERT INTO channel_buckets (channel_id, bucket) VALUES (?, ?)',
  getOne: `SELECT ${COLUMNS} FROM messages WHERE channel_id = ? AND bucket = ? AND message_id = ?`,
  olderInBucket: `SELECT ${COLUMNS} FROM messages WHERE channel_id = ? AND bucket = ? AND message_id < ? LIMIT ?`,
  newerInBucket: `SELECT ${COLUMNS} FROM messages WHERE channel_id = ? AND bucket = ? AND message_id > ? ORDER BY message_id ASC LIMIT ?`,
  // Several buckets in one statement: the coordinator reads them in parallel and merges in id order. Paging
  // must be off for ORDER BY across partitions, so the LIMIT bounds the rows instead.
  bucketsAtOrBelow: 'SELECT bucket FROM channel_buckets WHERE channel_id = ? AND bucket <= ? LIMIT ?',
  bucketsAtOrAbove: 'SELECT bucket FROM channel_buckets WHERE channel_id = ? AND bucket >= ? ORDER BY bucket ASC LIMIT ?',
  // Unread counting reads only the deleted flag of the rows past the reader's position.
  deletedFlagsBetweenInBucket: 'SELECT message_id, deleted FROM messages WHERE channel_id = ? AND bucket = ? AND message_id > ? AND message_id < ? LIMIT ?',
  // Mentions and attachments are bound `unset` when an edit leaves them as they are.
  edit: 'UPDATE messages SET content = ?, edited_at = ?, mentions = ?, attachments = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?',
  editAt:
    'UPDATE messages USING TIMESTAMP ? SET content = ?, edited_at = ?, mentions = ?, attachments = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?',
  // Clearing the mentions: cassandra-driver encodes a bound empty array as null, a tombstone cell; the literal
  // [] is a value (test/integration/tombstones.test.ts measures both).
  editClearingMentions: 'UPDATE messages SET content = ?, edited_at = ?, mentions = [], attachments = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?',
  editAtClearingMentions:
    'UPDATE messages USING TIMESTAMP ? SET content = ?, edited_at = ?, mentions = [], attachments = ? WHERE channel_id = ? AND bucket = ? AND message_id = ?',
  // Deleting writes two plain cells instead of a row tombstone: see the README's note on deletes under TWCS.
  // The attachment metadata (URLs) and mentions go too: plain cells, like the content.
  softDelete: "UPDATE messages SET deleted = true, content = '', mentions = [], attachments = '[]' WHERE channel_id = ? AND bucket = ? AND message_id = ?",
} as const;

/** Attachments as the row stores them: JSON text of the API shape, keys in a fixed order. */
export function attachmentsToJson(attachments: readonly Attachment[]): string {
  return JSON.stringify(
    attachments.map(({ id, url, filename, content_type, size, width, height }) => ({ id, url, filename, content_type, size, width, height })),
  );
}

export function attachmentsFromJson(text: string | null): Attachment[] {
  if (!text) return [];
  return (JSON.parse(text) as Attachment[]).map(({ id, url, filename, content_type, size, width, height }) => ({
    id,
    url,
    filename,
    content_type,
    size,
    ...(width === undefined || width === null ? {} : { width }),
    ...(height === undefined || height === null ? {} : { height }),
  }));
}

export function rowToMessage(channelId: string, row: cassandra.types.Row): MessageRecord {
  const telegramChat = row.get('telegram_chat_id') as cassandra.types.Long | null;
  const telegramMessage = row.get('telegram_message_id') as cassandra.types.Long | null;
  const telegramThread = row.get('telegram_thread_id') as cassandra.types.Long | null;
  const replyTo = row.get('reply_to_id') as cassandra.types.Long | null;
  return {
    channelId,
    id: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    authorId: String(row.get('author_id')),
    content: (row.get('content') as string | null) ?? '',
    editedAt: (row.get('edited_at') as Date | null) ?? null,
    replyToId: replyTo ? BigInt(replyTo.toString()) : null,
    source: row.get('source') === 'telegram' ? 'telegram' : 'app',
    telegram:
      telegramChat && telegramMessage
        ? { chatId: telegramChat.toNumber(), messageId: telegramMessage.toNumber(), threadId: telegramThread ? telegramThread.toNumber() : null }
        : null,
    deleted: row.get('deleted') === true,
    mentions: ((row.get('mentions') as cassandra.types.Uuid[] | null) ?? []).map(String),
    attachments: attachmentsFromJson(row.get('attachments') as string | null),
  };
}

/** Buckets this container has already recorded in channel_buckets: the index write is needed once. */
const indexedBuckets = new Set<string>();

/**
 * What a write of this store may carry along: statements of other stores written in the same logged batch (a
 * change record), and the driver options (a deadline) of the whole write.
 */
export interface WriteAlong {
  statements?: readonly Statement[];
  options?: cassandra.QueryOptions;
}

/**
 * Writes the message row and, the first time per container and bucket, its bucket-index entry, with whatever
 * `along` carries, all or none. `writeTimestampMicros` orders the write against later ones by another clock
 * than now (Telegram's).
 */
export async function insertMessage(message: MessageRecord, writeTimestampMicros?: number, along: WriteAlong = {}): Promise<void> {
  const bucket = bucketOf(message.id);
  const indexKey = `${message.channelId}:${bucket}`;
  const statements: Statement[] = [
    {
      query: writeTimestampMicros === undefined ? STATEMENTS.insert : STATEMENTS.insertAt,
      params: [
        message.channelId,
        bucket,
        toLong(message.id),
        message.authorId,
        message.content,
        // `unset` leaves a column out of the write; null would write a tombstone.
        message.replyToId === null ? unset : toLong(message.replyToId),
        message.source,
        message.telegram ? Long.fromNumber(message.telegram.chatId) : unset,
        message.telegram ? Long.fromNumber(message.telegram.messageId) : unset,
        message.telegram?.threadId ? Long.fromNumber(message.telegram.threadId) : unset,
        message.editedAt ?? unset,
        message.mentions?.length ? message.mentions : unset,
        message.attachments?.length ? attachmentsToJson(message.attachments) : unset,
        ...(writeTimestampMicros === undefined ? [] : [Long.fromNumber(writeTimestampMicros)]),
      ],
    },
  ];
  const indexing = !indexedBuckets.has(indexKey);
  if (indexing) statements.push({ query: STATEMENTS.indexBucket, params: [message.channelId, bucket] });
  await writeAtomically([...statements, ...(along.statements ?? [])], along.options);
  if (indexing) indexedBuckets.add(indexKey);
}

// The columns rowToMessage reads, and the version: WRITETIME(content), the Scylla write time of the last write
// that set the content. Every message write sets it (create, edit, soft delete), so it orders one message's
// states exactly as Scylla does (last write wins), whatever clocks minted the writes' change ids.
const STATE_QUERY =
  'SELECT message_id, author_id, content, edited_at, reply_to_id, source, telegram_chat_id, telegram_message_id, telegram_thread_id, deleted, mentions, attachments, WRITETIME(content) AS version FROM messages WHERE channel_id = ? AND bucket = ? AND message_id = ?';

/**
 * The message and the version of its state (search indexing keeps only the newest); undefined when there is no
 * row (never written, or purged with its channel).
 */
export async function getMessageState(channelId: string, messageId: bigint): Promise<{ message: MessageRecord; version: bigint } | undefined> {
  const row = (await readDecisive(STATE_QUERY, [channelId, bucketOf(messageId), toLong(messageId)])).first();
  if (!row) return undefined;
  const version = row.get('version') as cassandra.types.Long | null;
  return { message: rowToMessage(channelId, row), version: version ? BigInt(version.toString()) : 0n };
}

/** The stored message, deleted ones included (callers decide); undefined when absent. */
export async function getMessageRecord(channelId: string, id: bigint): Promise<MessageRecord | undefined> {
  const result = await read(STATEMENTS.getOne, [channelId, bucketOf(id), toLong(id)]);
  const row = result.first();
  return row ? rowToMessage(channelId, row) : undefined;
}

export interface ContentChange {
  content: string;
  editedAt: Date;
  /** Replaces the mentions; undefined leaves them as they are. */
  mentions?: string[] | undefined;
  /** Replaces the attachments; undefined leaves them as they are. */
  attachments?: Attachment[] | undefined;
}

/**
 * Replaces the content (and the mentions or attachments given); `writeTimestampMicros` as for insertMessage
 * (a Telegram edit lands at its edit time).
 */
export async function updateContent(
  channelId: string,
  id: bigint,
  change: ContentChange,
  writeTimestampMicros?: number,
  along: WriteAlong = {},
): Promise<void> {
  const clearing = change.mentions !== undefined && change.mentions.length === 0;
  const values = [
    change.content,
    change.editedAt,
    ...(clearing ? [] : [change.mentions === undefined ? unset : change.mentions]),
    change.attachments === undefined ? unset : attachmentsToJson(change.attachments),
    channelId,
    bucketOf(id),
    toLong(id),
  ];
  const statement =
    writeTimestampMicros === undefined
      ? { query: clearing ? STATEMENTS.editClearingMentions : STATEMENTS.edit, params: values }
      : { query: clearing ? STATEMENTS.editAtClearingMentions : STATEMENTS.editAt, params: [Long.fromNumber(writeTimestampMicros), ...values] };
  await writeAtomically([statement, ...(along.statements ?? [])], along.options);
}

export async function softDeleteMessage(channelId: string, id: bigint, along: WriteAlong = {}): Promise<void> {
  await writeAtomically([{ query: STATEMENTS.softDelete, params: [channelId, bucketOf(id), toLong(id)] }, ...(along.statements ?? [])], along.options);
}

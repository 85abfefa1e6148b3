/**
 * Telegram bookkeeping in Scylla: the dedup mapping (telegram_message_mapping), each linked channel's index of
 * what it holds from Telegram (telegram_channel_index, bucketed by Telegram id, with its bucket list) and the
 * ingestion log the reconciler reads from its checkpoint (telegram_ingest_log). An ingestion also moves the
 * count and the sync state kept in sync-state-store.ts. telegram_channel_messages, the index before issue 16.3
 * (one unbounded partition per channel), is only read, once per channel, by the reconciler's import.
 */
import cassandra from 'cassandra-driver';
import { conditionalWrite, mapConcurrently, read, readDecisive, readPages, write, writeAtomically, type Statement } from '../scylla/execute.js';
import { toLong } from '../scylla/values.js';
import { advanceSyncState, countIngestion } from './sync-state-store.js';

const { Long } = cassandra.types;

export interface MappedMessage {
  channelId: string;
  bucket: number;
  messageId: bigint;
}

function toMapped(row: cassandra.types.Row): MappedMessage {
  return {
    channelId: String(row.get('channel_id')),
    bucket: row.get('bucket') as number,
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
  };
}

/**
 * The exactly-once gate: a conditional insert keyed by Telegram's (message id, chat id). Returns whether
 * this call claimed it, and the mapping as stored (ours or the earlier one).
 */
export async function claimTelegramMessage(
  telegramChatId: number,
  telegramMessageId: number,
  target: MappedMessage,
): Promise<{ claimed: boolean; mapping: MappedMessage }> {
  const result = await conditionalWrite(
    'INSERT INTO telegram_message_mapping (telegram_message_id, telegram_chat_id, channel_id, bucket, message_id) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS',
    [Long.fromNumber(telegramMessageId), Long.fromNumber(telegramChatId), target.channelId, target.bucket, toLong(target.messageId)],
  );
  return result.wasApplied() ? { claimed: true, mapping: target } : { claimed: false, mapping: toMapped(result.first()) };
}

/** One partition read: where a Telegram message was stored, if it was. */
export async function findTelegramMessage(telegramChatId: number, telegramMessageId: number): Promise<MappedMessage | undefined> {
  const result = await read(
    'SELECT channel_id, bucket, message_id FROM telegram_message_mapping WHERE telegram_message_id = ? AND telegram_chat_id = ?',
    [Long.fromNumber(telegramMessageId), Long.fromNumber(telegramChatId)],
  );
  const row = result.first();
  return row ? toMapped(row) : undefined;
}

/** Telegram ids per index partition: Telegram's are 31-bit, so a channel has at most 32,768 buckets. */
export const INDEX_BUCKET_SIZE = 65_536;
const DAY_MS = 86_400_000;
/** How long log rows live (the table's default TTL): a checkpoint older than this has lost rows. */
export const INGEST_LOG_TTL_MS = 30 * DAY_MS;
/** Marks a message imported from telegram_channel_messages: counted by the import, never by a log row. */
export const IMPORTED_COUNTED_AT = new Date(0);

export function indexBucketOf(telegramMessageId: number): number {
  return Math.floor(telegramMessageId / INDEX_BUCKET_SIZE);
}

export function logDayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/**
 * What an ingestion writes for the reconciler, all or none (one logged batch): the index row, its bucket and
 * the log row. A log row always has its index row, so the reconciler can tell counted from not.
 */
export function ingestionStatements(channelId: string, telegramMessageId: number, messageId: bigint, loggedAt: Date): Statement[] {
  const id = Long.fromNumber(telegramMessageId);
  const bucket = indexBucketOf(telegramMessageId);
  return [
    {
      query: 'INSERT INTO telegram_channel_index (channel_id, bucket, telegram_message_id, message_id, ingested_at) VALUES (?, ?, ?, ?, ?)',
      params: [channelId, bucket, id, toLong(messageId), loggedAt],
    },
    { query: 'INSERT INTO telegram_channel_index_buckets (channel_id, bucket) VALUES (?, ?)', params: [channelId, bucket] },
    {
      query: 'INSERT INTO telegram_ingest_log (channel_id, day, logged_at, telegram_message_id) VALUES (?, ?, ?, ?)',
      params: [channelId, logDayOf(loggedAt.getTime()), loggedAt, id],
    },
  ];
}

/**
 * Records an ingestion: the index and log rows and the sync state (all idempotent), and the count, which only
 * the writer that claimed the mapping may move.
 */
export async function recordIngestion(
  channelId: string,
  telegramChatId: number,
  telegramMessageId: number,
  messageId: bigint,
  sentAtMs: number,
  countIt: boolean,
): Promise<void> {
  const now = new Date();
  await writeAtomically(ingestionStatements(channelId, telegramMessageId, messageId, now));
  // After the log row: the reconciler's counter check counts log rows, so a counter never runs ahead of them.
  if (countIt) await countIngestion(channelId);
  await advanceSyncState(channelId, telegramChatId, telegramMessageId, sentAtMs, now);
}

/** Whether the channel's index has the message: a redelivery re-records an ingestion whose writer died. */
export async function isIndexed(channelId: string, telegramMessageId: number): Promise<boolean> {
  const result = await read('SELECT telegram_message_id FROM telegram_channel_index WHERE channel_id = ? AND bucket = ? AND telegram_message_id = ?', [
    channelId,
    indexBucketOf(telegramMessageId),
    Long.fromNumber(telegramMessageId),
  ]);
  return result.rowLength > 0;
}

/** A point in the ingestion log: rows after it are (logged_at, telegram_message_id) greater. */
export interface LogPosition {
  atMs: number;
  telegramMessageId: number;
}

export interface LogEntry {
  loggedAt: Date;
  telegramMessageId: number;
}

/** One page of one day of the channel's ingestion log, after `after`, in log order. */
export async function ingestLogPage(channelId: string, day: number, after: LogPosition, limit: number): Promise<LogEntry[]> {
  const result = await readDecisive(
    'SELECT logged_at, telegram_message_id FROM telegram_ingest_log WHERE channel_id = ? AND day = ? AND (logged_at, telegram_message_id) > (?, ?) LIMIT ?',
    [channelId, day, new Date(after.atMs), Long.fromNumber(after.telegramMessageId), limit],
  );
  return result.rows.map((row) => ({
    loggedAt: row.get('logged_at') as Date,
    telegramMessageId: (row.get('telegram_message_id') as cassandra.types.Long).toNumber(),
  }));
}

/** Ids per IN list: one partition's statement each, a bounded list. */
const IN_CHUNK = 100;

/**
 * For each id the index holds: when the reconciler counted it (null: not yet). An id missing from the map is
 * not indexed. One statement per bucket and chunk, single-partition, a few in flight.
 */
export async function countedMarks(channelId: string, telegramMessageIds: readonly number[]): Promise<Map<number, number | null>> {
  const byBucket = new Map<number, number[]>();
  for (const id of new Set(telegramMessageIds)) {
    const bucket = indexBucketOf(id);
    byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), id]);
  }
  const queries: { bucket: number; ids: number[] }[] = [];
  for (const [bucket, ids] of byBucket) for (let i = 0; i < ids.length; i += IN_CHUNK) queries.push({ bucket, ids: ids.slice(i, i + IN_CHUNK) });
  const marks = new Map<number, number | null>();
  await mapConcurrently(queries, 8, async ({ bucket, ids }) => {
    const result = await readDecisive('SELECT telegram_message_id, counted_at FROM telegram_channel_index WHERE channel_id = ? AND bucket = ? AND telegram_message_id IN ?', [
      channelId,
      bucket,
      ids.map((id) => Long.fromNumber(id)),
    ]);
    for (const row of result.rows) {
      marks.set((row.get('telegram_message_id') as cassandra.types.Long).toNumber(), (row.get('counted_at') as Date | null)?.getTime() ?? null);
    }
  });
  return marks;
}

/** Marks messages counted by the log row at `countedAt` (the reconciler only; see the migration). */
export async function markCounted(channelId: string, counted: readonly LogEntry[]): Promise<void> {
  await mapConcurrently(counted, 16, ({ telegramMessageId, loggedAt }) =>
    write('UPDATE telegram_channel_index SET counted_at = ? WHERE channel_id = ? AND bucket = ? AND telegram_message_id = ?', [
      loggedAt,
      channelId,
      indexBucketOf(telegramMessageId),
      Long.fromNumber(telegramMessageId),
    ]),
  );
}

/** The channel's Telegram ids, a page at a time, bucket by bucket in id order (for the purge). */
export async function* indexedTelegramIdPages(channelId: string, pageSize: number): AsyncGenerator<number[]> {
  const buckets = (await read('SELECT bucket FROM telegram_channel_index_buckets WHERE channel_id = ?', [channelId])).rows.map((row) => row.get('bucket') as number);
  for (const bucket of buckets) {
    for await (const rows of readPages('SELECT telegram_message_id FROM telegram_channel_index WHERE channel_id = ? AND bucket = ?', [channelId, bucket], pageSize)) {
      yield rows.map((row) => (row.get('telegram_message_id') as cassandra.types.Long).toNumber());
    }
  }
}

export interface LegacyIndexRow {
  telegramMessageId: number;
  messageId: bigint;
  ingestedAt: Date | null;
}

/** One page of the pre-16.3 index (telegram_channel_messages) in Telegram id order, after `afterTelegramMessageId`. */
export async function legacyIndexPage(channelId: string, afterTelegramMessageId: number, limit: number): Promise<LegacyIndexRow[]> {
  const result = await readDecisive(
    'SELECT telegram_message_id, message_id, ingested_at FROM telegram_channel_messages WHERE channel_id = ? AND telegram_message_id > ? LIMIT ?',
    [channelId, Long.fromNumber(afterTelegramMessageId), limit],
    { readTimeout: 10_000 },
  );
  return result.rows.map((row) => ({
    telegramMessageId: (row.get('telegram_message_id') as cassandra.types.Long).toNumber(),
    messageId: BigInt((row.get('message_id') as cassandra.types.Long).toString()),
    ingestedAt: (row.get('ingested_at') as Date | null) ?? null,
  }));
}

/** Copies pre-16.3 index rows into the bucketed index, marked counted by the import. */
export async function importLegacyRows(channelId: string, rows: readonly LegacyIndexRow[]): Promise<void> {
  for (const bucket of new Set(rows.map((row) => indexBucketOf(row.telegramMessageId)))) {
    await write('INSERT INTO telegram_channel_index_buckets (channel_id, bucket) VALUES (?, ?)', [channelId, bucket]);
  }
  await mapConcurrently(rows, 16, (row) =>
    write(
      'INSERT INTO telegram_channel_index (channel_id, bucket, telegram_message_id, message_id, ingested_at, counted_at) VALUES (?, ?, ?, ?, ?, ?)',
      [
        channelId,
        indexBucketOf(row.telegramMessageId),
        Long.fromNumber(row.telegramMessageId),
        toLong(row.messageId),
        row.ingestedAt ?? cassandra.types.unset,
        IMPORTED_COUNTED_AT,
      ],
    ),
  );
}

/**
 * Deletes the channel's bucketed index: each bucket's partition, then the bucket list (the walk's way in, so it
 * goes last). Its ingestion-log rows are left to their TTL: the log is read only for linked channels.
 */
export async function purgeTelegramIndex(channelId: string): Promise<void> {
  const buckets = (await read('SELECT bucket FROM telegram_channel_index_buckets WHERE channel_id = ?', [channelId])).rows.map((row) => row.get('bucket') as number);
  await mapConcurrently(buckets, 8, (bucket) => write('DELETE FROM telegram_channel_index WHERE channel_id = ? AND bucket = ?', [channelId, bucket]));
  await write('DELETE FROM telegram_channel_index_buckets WHERE channel_id = ?', [channelId]);
}

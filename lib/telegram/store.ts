/** Telegram bookkeeping in Scylla: the dedup mapping, the per-channel index, counts and sync state. */
import cassandra from 'cassandra-driver';
import { toLong } from '../messages/store.js';
import { conditionalWrite, read, write } from '../scylla/execute.js';

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

/**
 * Records an ingestion: the channel's Telegram index and the sync state (both idempotent), and the count,
 * which only the writer that claimed the mapping may move.
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
  await write('INSERT INTO telegram_channel_messages (channel_id, telegram_message_id, message_id, ingested_at) VALUES (?, ?, ?, ?)', [
    channelId,
    Long.fromNumber(telegramMessageId),
    toLong(messageId),
    now,
  ]);
  // After the index row: the reconciler's count check relies on this order (see reconciler/telegram.ts).
  if (countIt) await conditionalWrite('UPDATE telegram_ingest_counts SET ingested = ingested + 1 WHERE channel_id = ?', [channelId]);
  await advanceSyncState(channelId, telegramChatId, telegramMessageId, sentAtMs, now);
}

/**
 * Moves the sync state forward without reading it. The last Telegram id is written with the Telegram
 * message's own send time as its timestamp, so a late redelivery of an older message never moves it back.
 */
export async function advanceSyncState(
  channelId: string,
  telegramChatId: number,
  telegramMessageId: number,
  sentAtMs: number,
  ingestedAt: Date,
): Promise<void> {
  await Promise.all([
    write('UPDATE telegram_sync_state USING TIMESTAMP ? SET last_telegram_message_id = ? WHERE channel_id = ?', [
      Long.fromNumber(sentAtMs * 1000 + (telegramMessageId % 1000)),
      Long.fromNumber(telegramMessageId),
      channelId,
    ]),
    write('UPDATE telegram_sync_state SET telegram_chat_id = ?, last_ingested_at = ? WHERE channel_id = ?', [
      Long.fromNumber(telegramChatId),
      ingestedAt,
      channelId,
    ]),
  ]);
}

export interface SyncState {
  telegramChatId: number | null;
  lastTelegramMessageId: number | null;
  lastWrittenMicros: bigint | null;
  lastIngestedAt: Date | null;
  ingestedCount: number;
}

export async function readSyncState(channelId: string): Promise<SyncState> {
  const [state, count] = await Promise.all([
    read(
      'SELECT telegram_chat_id, last_telegram_message_id, WRITETIME(last_telegram_message_id) AS last_written, last_ingested_at FROM telegram_sync_state WHERE channel_id = ?',
      [channelId],
    ),
    read('SELECT ingested FROM telegram_ingest_counts WHERE channel_id = ?', [channelId]),
  ]);
  const row = state.first();
  const long = (name: string) => (row?.get(name) as cassandra.types.Long | null | undefined) ?? null;
  return {
    telegramChatId: long('telegram_chat_id')?.toNumber() ?? null,
    lastTelegramMessageId: long('last_telegram_message_id')?.toNumber() ?? null,
    lastWrittenMicros: long('last_written') ? BigInt(long('last_written')!.toString()) : null,
    lastIngestedAt: (row?.get('last_ingested_at') as Date | null | undefined) ?? null,
    ingestedCount: (count.first()?.get('ingested') as cassandra.types.Long | undefined)?.toNumber() ?? 0,
  };
}

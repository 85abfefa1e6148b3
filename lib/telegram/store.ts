/**
 * Telegram bookkeeping in Scylla: the dedup mapping (telegram_message_mapping) and each linked channel's
 * index of what it holds from Telegram (telegram_channel_messages). An ingestion also moves the count and the
 * sync state kept in sync-state-store.ts.
 */
import cassandra from 'cassandra-driver';
import { conditionalWrite, read, write } from '../scylla/execute.js';
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
  // After the index row: the reconciler's count check relies on this order (see use-cases/reconciler/telegram.ts).
  if (countIt) await countIngestion(channelId);
  await advanceSyncState(channelId, telegramChatId, telegramMessageId, sentAtMs, now);
}

/** One page of the channel's Telegram index in Telegram id order, after `afterTelegramMessageId`. */
export async function indexedTelegramMessages(
  channelId: string,
  afterTelegramMessageId: number,
  limit: number,
): Promise<{ telegramMessageId: number; ingestedAt: Date | null }[]> {
  const result = await read(
    'SELECT telegram_message_id, ingested_at FROM telegram_channel_messages WHERE channel_id = ? AND telegram_message_id > ? LIMIT ?',
    [channelId, Long.fromNumber(afterTelegramMessageId), limit],
    { readTimeout: 10_000 },
  );
  return result.rows.map((row) => ({
    telegramMessageId: (row.get('telegram_message_id') as cassandra.types.Long).toNumber(),
    ingestedAt: (row.get('ingested_at') as Date | null) ?? null,
  }));
}

/** How many Telegram messages the channel's index holds: the truth the ingestion count is checked against. */
export async function countIndexedTelegramMessages(channelId: string): Promise<number> {
  const row = (await read('SELECT COUNT(*) AS n FROM telegram_channel_messages WHERE channel_id = ?', [channelId], { readTimeout: 30_000 })).first();
  return (row.get('n') as cassandra.types.Long).toNumber();
}

/**
 * How far each linked channel's Telegram ingestion has come, and how the bot's webhook is doing:
 * telegram_sync_state (last Telegram id, last ingestion, reconciliation time), telegram_ingest_counts (a
 * counter moved once per first-time ingestion) and telegram_webhook_health. Ingestion moves them forward;
 * the reconciler repairs them from the channel's Telegram index.
 */
import type { WebhookInfo } from '@grammyjs/types';
import cassandra from 'cassandra-driver';
import { conditionalWrite, read, write } from '../scylla/execute.js';

const { Long } = cassandra.types;

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

/** Counts one first-time ingestion: only the writer that claimed the mapping may call it (a counter moves once). */
export async function countIngestion(channelId: string): Promise<void> {
  await conditionalWrite('UPDATE telegram_ingest_counts SET ingested = ingested + 1 WHERE channel_id = ?', [channelId]);
}

/** Moves the ingestion count by `delta` to repair drift the reconciler found. */
export async function adjustIngestionCount(channelId: string, delta: number): Promise<void> {
  await conditionalWrite('UPDATE telegram_ingest_counts SET ingested = ingested + ? WHERE channel_id = ?', [Long.fromNumber(delta), channelId]);
}

/**
 * Overwrites the last Telegram id with a write at `writeTimestampMicros`: the repair must win over the
 * wrong value's write without outranking later ingestions, which write at Telegram's send time.
 */
export async function repairLastTelegramMessageId(channelId: string, telegramMessageId: number, writeTimestampMicros: bigint): Promise<void> {
  await write('UPDATE telegram_sync_state USING TIMESTAMP ? SET last_telegram_message_id = ? WHERE channel_id = ?', [
    Long.fromString(writeTimestampMicros.toString()),
    Long.fromNumber(telegramMessageId),
    channelId,
  ]);
}

export async function repairLastIngestedAt(channelId: string, lastIngestedAt: Date): Promise<void> {
  await write('UPDATE telegram_sync_state SET last_ingested_at = ? WHERE channel_id = ?', [lastIngestedAt, channelId]);
}

export async function repairTelegramChatId(channelId: string, telegramChatId: number): Promise<void> {
  await write('UPDATE telegram_sync_state SET telegram_chat_id = ? WHERE channel_id = ?', [Long.fromNumber(telegramChatId), channelId]);
}

export async function markReconciled(channelId: string, at: Date): Promise<void> {
  await write('UPDATE telegram_sync_state SET reconciled_at = ? WHERE channel_id = ?', [at, channelId]);
}

/** Records the webhook's health as getWebhookInfo reported it, one row per bot. */
export async function saveWebhookHealth(bot: string, info: WebhookInfo, checkedAt: Date): Promise<void> {
  await write(
    'INSERT INTO telegram_webhook_health (bot, url, pending_update_count, last_error_date, last_error_message, checked_at) VALUES (?, ?, ?, ?, ?, ?)',
    [
      bot,
      info.url,
      info.pending_update_count,
      info.last_error_date ? new Date(info.last_error_date * 1000) : cassandra.types.unset,
      info.last_error_message ?? cassandra.types.unset,
      checkedAt,
    ],
  );
}

/**
 * How far each linked channel's Telegram ingestion has come, and how the bot's webhook is doing:
 * telegram_sync_state (last Telegram id, last ingestion, the exact count, reconciliation time),
 * telegram_ingest_counts (a counter moved once per first-time ingestion: live, but a counter update that times
 * out may or may not have applied, so the reconciler corrects it), the reconciler's count state in
 * telegram_reconcile_state (exact as of its checkpoint in the ingestion log) and telegram_webhook_health.
 * Ingestion moves the first two forward; the reconciler repairs them from its count state and the log.
 */
import type { WebhookInfo } from '@grammyjs/types';
import cassandra from 'cassandra-driver';
import { conditionalWrite, read, readDecisive, write } from '../scylla/execute.js';
import { MAX_TELEGRAM_MESSAGE_ID } from './ids.js';

const { Long } = cassandra.types;

/**
 * The write timestamp of last_telegram_message_id: the send second in microseconds plus the id's rank scaled into
 * that second, so it never decreases with (date, id) for any id (an id mod 1000 put message 1000 before 999).
 * Ids closer than ~3,143 apart in one second share a timestamp; the greater value (the greater id) then wins.
 */
export function syncTimestampMicros(sentAtMs: number, telegramMessageId: number): number {
  const second = Math.floor(sentAtMs / 1000) * 1_000_000;
  return second + Math.floor(((telegramMessageId - 1) * 1_000_000) / (MAX_TELEGRAM_MESSAGE_ID + 1));
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
      Long.fromNumber(syncTimestampMicros(sentAtMs, telegramMessageId)),
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
  /** The live counter (telegram_ingest_counts): moved by each claim, corrected by the reconciler. */
  ingestedCount: number;
  /** ingested_count: exact as of the reconciler's checkpoint (written by the reconciler only); null before its first pass. */
  countedIngestions: number | null;
}

export async function readSyncState(channelId: string): Promise<SyncState> {
  const [state, count] = await Promise.all([
    read(
      'SELECT telegram_chat_id, last_telegram_message_id, WRITETIME(last_telegram_message_id) AS last_written, last_ingested_at, ingested_count FROM telegram_sync_state WHERE channel_id = ?',
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
    countedIngestions: long('ingested_count')?.toNumber() ?? null,
  };
}

/** The live counter alone: what the reconciler compares with its exact count. */
export async function readIngestionCounter(channelId: string): Promise<number> {
  const row = (await read('SELECT ingested FROM telegram_ingest_counts WHERE channel_id = ?', [channelId])).first();
  return (row?.get('ingested') as cassandra.types.Long | undefined)?.toNumber() ?? 0;
}

/** Writes the exact count (a plain value: a retried write cannot move it twice). */
export async function saveCountedIngestions(channelId: string, counted: number): Promise<void> {
  await write('UPDATE telegram_sync_state SET ingested_count = ? WHERE channel_id = ?', [Long.fromNumber(counted), channelId]);
}

/** Missing Telegram ids, inclusive. */
export type Gap = [from: number, to: number];

/**
 * The reconciler's count state of one channel: everything in the ingestion log up to `through` is counted in
 * `counted` (and in the first/last id, the last ingestion and the gaps); what comes after is the next pass's.
 */
export interface CountState {
  through: { atMs: number; telegramMessageId: number };
  counted: number;
  firstTelegramMessageId: number | null;
  lastTelegramMessageId: number | null;
  lastIngestedAt: Date | null;
  /** Missing Telegram ids between the first and the last, inclusive ranges in id order (capped). */
  gaps: Gap[];
}

/** The channel's count state, or undefined before its first pass (the old index not imported yet). */
export async function loadCountState(channelId: string): Promise<CountState | undefined> {
  const row = (
    await readDecisive(
      'SELECT counted_through, counted_through_id, counted, first_telegram_message_id, last_telegram_message_id, last_ingested_at, gaps FROM telegram_reconcile_state WHERE channel_id = ?',
      [channelId],
    )
  ).first();
  const through = row?.get('counted_through') as Date | null | undefined;
  if (!row || !through) return undefined;
  const long = (name: string) => (row.get(name) as cassandra.types.Long | null)?.toNumber() ?? null;
  return {
    through: { atMs: through.getTime(), telegramMessageId: long('counted_through_id') ?? 0 },
    counted: long('counted') ?? 0,
    firstTelegramMessageId: long('first_telegram_message_id'),
    lastTelegramMessageId: long('last_telegram_message_id'),
    lastIngestedAt: (row.get('last_ingested_at') as Date | null) ?? null,
    gaps: JSON.parse((row.get('gaps') as string | null) ?? '[]') as Gap[],
  };
}

/** Saves the count state with its checkpoint in one row write: the count and the checkpoint move together. */
export async function saveCountState(channelId: string, state: CountState): Promise<void> {
  const longOrUnset = (value: number | null) => (value === null ? cassandra.types.unset : Long.fromNumber(value));
  await write(
    'UPDATE telegram_reconcile_state SET counted_through = ?, counted_through_id = ?, counted = ?, first_telegram_message_id = ?, last_telegram_message_id = ?, last_ingested_at = ?, gaps = ? WHERE channel_id = ?',
    [
      new Date(state.through.atMs),
      Long.fromNumber(state.through.telegramMessageId),
      Long.fromNumber(state.counted),
      longOrUnset(state.firstTelegramMessageId),
      longOrUnset(state.lastTelegramMessageId),
      state.lastIngestedAt ?? cassandra.types.unset,
      JSON.stringify(state.gaps),
      channelId,
    ],
  );
}

/** How many messages the last backfill stored. */
export async function saveBackfilled(channelId: string, backfilled: number): Promise<void> {
  await write('UPDATE telegram_reconcile_state SET backfilled_count = ? WHERE channel_id = ?', [Long.fromNumber(backfilled), channelId]);
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

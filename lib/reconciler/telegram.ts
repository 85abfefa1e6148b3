/**
 * Makes each linked channel's telegram_sync_state true again from what is stored. A pass walks the
 * channel's Telegram index (telegram_channel_messages) in Telegram id order, counting, finding the newest
 * id and ingestion time, and recording gaps in the id sequence; a pass cut short by the time budget resumes
 * where it stopped. At the end of a pass, what differs is repaired, and missing ids are fetched from the
 * history source when one is configured.
 */
import cassandra from 'cassandra-driver';
import type { Config } from '../config.js';
import { log } from '../log.js';
import { conditionalWrite, read, write } from '../scylla/execute.js';
import { fetchHistory, getWebhookInfo } from '../telegram/bot-api.js';
import { ingestUpdate } from '../telegram/ingest.js';
import { linkedChannelsPage } from '../telegram/links.js';
import { readSyncState } from '../telegram/store.js';
import { resolveTelegramBotToken } from '../secrets.js';
import type { Budget } from './budget.js';
import { loadCheckpoint, saveCheckpoint, stableMismatch } from './state.js';

const { Long } = cassandra.types;
const PAGE = 1000;
const MAX_GAPS_KEPT = 200;
const MAX_BACKFILL_PER_CHANNEL = 500;
const CHANNELS_CHECKPOINT = 'telegram:channels';

export type Gap = [from: number, to: number];

interface Pass {
  cursor: number;
  count: number;
  lastIngestedAt: Date | null;
  gaps: Gap[];
}

async function loadPass(channelId: string): Promise<Pass> {
  const row = (
    await read('SELECT pass_cursor, pass_count, pass_last_ingested_at, pass_gaps FROM telegram_reconcile_state WHERE channel_id = ?', [channelId])
  ).first();
  const cursor = row?.get('pass_cursor') as cassandra.types.Long | null | undefined;
  if (!row || !cursor) return { cursor: 0, count: 0, lastIngestedAt: null, gaps: [] };
  return {
    cursor: cursor.toNumber(),
    count: (row.get('pass_count') as cassandra.types.Long | null)?.toNumber() ?? 0,
    lastIngestedAt: (row.get('pass_last_ingested_at') as Date | null) ?? null,
    gaps: JSON.parse((row.get('pass_gaps') as string | null) ?? '[]') as Gap[],
  };
}

async function savePass(channelId: string, pass: Pass): Promise<void> {
  await write(
    'UPDATE telegram_reconcile_state SET pass_cursor = ?, pass_count = ?, pass_last_ingested_at = ?, pass_gaps = ? WHERE channel_id = ?',
    [Long.fromNumber(pass.cursor), Long.fromNumber(pass.count), pass.lastIngestedAt ?? new Date(0), JSON.stringify(pass.gaps), channelId],
  );
}

/** Walks the index from the pass's cursor; returns the finished pass, or undefined if time ran out. */
async function walkIndex(channelId: string, budget: Budget): Promise<Pass | undefined> {
  const pass = await loadPass(channelId);
  for (;;) {
    if (budget.exhausted()) {
      await savePass(channelId, pass);
      return undefined;
    }
    const rows = (
      await read(
        'SELECT telegram_message_id, ingested_at FROM telegram_channel_messages WHERE channel_id = ? AND telegram_message_id > ? LIMIT ?',
        [channelId, Long.fromNumber(pass.cursor), PAGE],
        { readTimeout: 10_000 },
      )
    ).rows;
    for (const row of rows) {
      const id = (row.get('telegram_message_id') as cassandra.types.Long).toNumber();
      if (pass.cursor > 0 && id > pass.cursor + 1 && pass.gaps.length < MAX_GAPS_KEPT) pass.gaps.push([pass.cursor + 1, id - 1]);
      pass.cursor = id;
      pass.count += 1;
      const ingestedAt = row.get('ingested_at') as Date | null;
      if (ingestedAt && (!pass.lastIngestedAt || ingestedAt > pass.lastIngestedAt)) pass.lastIngestedAt = ingestedAt;
    }
    if (rows.length < PAGE) return pass;
  }
}

export interface ChannelReport {
  channelId: string;
  complete: boolean;
  repaired: string[];
  gaps: number;
  backfilled: number;
}

async function repairSyncState(channelId: string, telegramChatId: number, pass: Pass, settleMs: number): Promise<string[]> {
  const repaired: string[] = [];
  const state = await readSyncState(channelId);
  if (pass.count > 0 && state.lastTelegramMessageId !== pass.cursor) {
    // One microsecond above whatever wrote the wrong value, so the repair wins without erasing later
    // ingestions' ordering (they write at Telegram's send time).
    const timestamp = (state.lastWrittenMicros ?? BigInt(Date.now() * 1000)) + 1n;
    await write('UPDATE telegram_sync_state USING TIMESTAMP ? SET last_telegram_message_id = ? WHERE channel_id = ?', [
      Long.fromString(timestamp.toString()),
      Long.fromNumber(pass.cursor),
      channelId,
    ]);
    repaired.push('last_telegram_message_id');
  }
  if (pass.lastIngestedAt && (!state.lastIngestedAt || state.lastIngestedAt < pass.lastIngestedAt)) {
    await write('UPDATE telegram_sync_state SET last_ingested_at = ? WHERE channel_id = ?', [pass.lastIngestedAt, channelId]);
    repaired.push('last_ingested_at');
  }
  if (state.telegramChatId !== telegramChatId) {
    await write('UPDATE telegram_sync_state SET telegram_chat_id = ? WHERE channel_id = ?', [Long.fromNumber(telegramChatId), channelId]);
    repaired.push('telegram_chat_id');
  }
  const drift = await stableMismatch(
    async () => {
      const recorded = (await readSyncState(channelId)).ingestedCount;
      const truth = (await read('SELECT COUNT(*) AS n FROM telegram_channel_messages WHERE channel_id = ?', [channelId], { readTimeout: 30_000 })).first();
      return { truth: (truth.get('n') as cassandra.types.Long).toNumber(), recorded };
    },
    (a, b) => a === b,
    settleMs,
  );
  if (drift) {
    await conditionalWrite('UPDATE telegram_ingest_counts SET ingested = ingested + ? WHERE channel_id = ?', [
      Long.fromNumber(drift.truth - drift.recorded),
      channelId,
    ]);
    repaired.push('ingested_count');
  }
  return repaired;
}

async function backfill(config: Config['telegram'], telegramChatId: number, gaps: Gap[], budget: Budget): Promise<number> {
  if (!config.historyUrl) return 0;
  let stored = 0;
  for (const [from, to] of gaps) {
    if (budget.exhausted() || stored >= MAX_BACKFILL_PER_CHANNEL) break;
    const messages = await fetchHistory(config, telegramChatId, from, Math.min(to, from + MAX_BACKFILL_PER_CHANNEL - 1));
    for (const message of messages) {
      if (message.chat?.id !== telegramChatId || message.message_id < from || message.message_id > to) continue;
      const outcome = await ingestUpdate({ update_id: 0, message } as never);
      if (outcome.status === 'stored') stored += 1;
    }
  }
  return stored;
}

export async function reconcileChannel(
  channelId: string,
  telegramChatId: number,
  config: Config['telegram'],
  budget: Budget,
  settleMs: number,
): Promise<ChannelReport> {
  const pass = await walkIndex(channelId, budget);
  if (!pass) return { channelId, complete: false, repaired: [], gaps: 0, backfilled: 0 };
  const repaired = await repairSyncState(channelId, telegramChatId, pass, settleMs);
  const backfilled = await backfill(config, telegramChatId, pass.gaps, budget);
  // Gaps that a backfill filled are found closed by the next pass.
  await write(
    'UPDATE telegram_reconcile_state SET gaps = ?, backfilled_count = ?, pass_cursor = ?, pass_count = ?, pass_gaps = ? WHERE channel_id = ?',
    [JSON.stringify(pass.gaps), Long.fromNumber(backfilled), Long.fromNumber(0), Long.fromNumber(0), '[]', channelId],
  );
  await write('UPDATE telegram_sync_state SET reconciled_at = ? WHERE channel_id = ?', [new Date(), channelId]);
  if (repaired.length > 0) log().warn('telegram sync state repaired', { channelId, repaired });
  return { channelId, complete: true, repaired, gaps: pass.gaps.length, backfilled };
}

/** Every linked channel, a page at a time from the checkpoint; returns when done or out of time. */
export async function reconcileLinkedChannels(
  config: Config['telegram'],
  budget: Budget,
  settleMs: number,
): Promise<{ reports: ChannelReport[]; complete: boolean }> {
  const reports: ChannelReport[] = [];
  let after = await loadCheckpoint(CHANNELS_CHECKPOINT);
  for (;;) {
    const page = await linkedChannelsPage(after, 100);
    for (const channel of page) {
      if (budget.exhausted()) {
        await saveCheckpoint(CHANNELS_CHECKPOINT, after);
        return { reports, complete: false };
      }
      const report = await reconcileChannel(channel.channelId, channel.telegramChatId, config, budget, settleMs);
      reports.push(report);
      if (!report.complete) {
        await saveCheckpoint(CHANNELS_CHECKPOINT, after);
        return { reports, complete: false };
      }
      after = channel.channelId;
    }
    if (page.length < 100) break;
  }
  await saveCheckpoint(CHANNELS_CHECKPOINT, null);
  return { reports, complete: true };
}

/** Records the webhook's health as Telegram reports it. */
export async function recordWebhookHealth(config: Config['telegram']): Promise<{ pending: number; lastError: string | null } | undefined> {
  const token = await resolveTelegramBotToken(config);
  if (!token) return undefined;
  const info = await getWebhookInfo(config, token);
  await write(
    'INSERT INTO telegram_webhook_health (bot, url, pending_update_count, last_error_date, last_error_message, checked_at) VALUES (?, ?, ?, ?, ?, ?)',
    [
      token.split(':')[0] ?? 'bot',
      info.url,
      info.pending_update_count,
      info.last_error_date ? new Date(info.last_error_date * 1000) : cassandra.types.unset,
      info.last_error_message ?? cassandra.types.unset,
      new Date(),
    ],
  );
  if (info.last_error_message || info.pending_update_count > 100) {
    log().warn('telegram webhook unhealthy', { pending: info.pending_update_count, lastError: info.last_error_message });
  }
  return { pending: info.pending_update_count, lastError: info.last_error_message ?? null };
}

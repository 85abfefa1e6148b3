/**
 * Makes each linked channel's telegram_sync_state true again from what is stored. A pass walks the
 * channel's Telegram index (telegram_channel_messages) in Telegram id order, counting, finding the newest
 * id and ingestion time, and recording gaps in the id sequence; a pass cut short by the time budget resumes
 * where it stopped. At the end of a pass, what differs is repaired, and missing ids are fetched from the
 * history source when one is configured.
 */
import { linkedChannelsPage } from '../../channels/telegram-links.js';
import type { Config } from '../../config.js';
import { log } from '../../log.js';
import { finishTelegramPass, loadCheckpoint, loadTelegramPass, saveCheckpoint, saveTelegramPass, type Gap, type TelegramPass } from '../../reconciler/store.js';
import { resolveTelegramBotToken } from '../../secrets.js';
import { fetchHistory, getWebhookInfo } from '../../telegram/bot-api.js';
import { countIndexedTelegramMessages, indexedTelegramMessages } from '../../telegram/store.js';
import {
  adjustIngestionCount,
  markReconciled,
  readSyncState,
  repairLastIngestedAt,
  repairLastTelegramMessageId,
  repairTelegramChatId,
  saveWebhookHealth,
} from '../../telegram/sync-state-store.js';
import { ingestUpdate } from '../telegram.js';
import type { Budget } from './budget.js';
import { stableMismatch } from './drift.js';

const PAGE = 1000;
const MAX_GAPS_KEPT = 200;
const MAX_BACKFILL_PER_CHANNEL = 500;
const CHANNELS_CHECKPOINT = 'telegram:channels';

/** Walks the index from the pass's cursor; returns the finished pass, or undefined if time ran out. */
async function walkIndex(channelId: string, budget: Budget): Promise<TelegramPass | undefined> {
  const pass = await loadTelegramPass(channelId);
  for (;;) {
    if (budget.exhausted()) {
      await saveTelegramPass(channelId, pass);
      return undefined;
    }
    const rows = await indexedTelegramMessages(channelId, pass.cursor, PAGE);
    for (const { telegramMessageId: id, ingestedAt } of rows) {
      if (pass.cursor > 0 && id > pass.cursor + 1 && pass.gaps.length < MAX_GAPS_KEPT) pass.gaps.push([pass.cursor + 1, id - 1]);
      pass.cursor = id;
      pass.count += 1;
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

async function repairSyncState(channelId: string, telegramChatId: number, pass: TelegramPass, settleMs: number): Promise<string[]> {
  const repaired: string[] = [];
  const state = await readSyncState(channelId);
  if (pass.count > 0 && state.lastTelegramMessageId !== pass.cursor) {
    // One microsecond above whatever wrote the wrong value, so the repair wins without erasing later
    // ingestions' ordering (they write at Telegram's send time).
    const timestamp = (state.lastWrittenMicros ?? BigInt(Date.now() * 1000)) + 1n;
    await repairLastTelegramMessageId(channelId, pass.cursor, timestamp);
    repaired.push('last_telegram_message_id');
  }
  if (pass.lastIngestedAt && (!state.lastIngestedAt || state.lastIngestedAt < pass.lastIngestedAt)) {
    await repairLastIngestedAt(channelId, pass.lastIngestedAt);
    repaired.push('last_ingested_at');
  }
  if (state.telegramChatId !== telegramChatId) {
    await repairTelegramChatId(channelId, telegramChatId);
    repaired.push('telegram_chat_id');
  }
  const drift = await stableMismatch(
    async () => {
      const recorded = (await readSyncState(channelId)).ingestedCount;
      return { truth: await countIndexedTelegramMessages(channelId), recorded };
    },
    (a, b) => a === b,
    settleMs,
  );
  if (drift) {
    await adjustIngestionCount(channelId, drift.truth - drift.recorded);
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
  await finishTelegramPass(channelId, pass.gaps, backfilled);
  await markReconciled(channelId, new Date());
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
  await saveWebhookHealth(token.split(':')[0] ?? 'bot', info, new Date());
  if (info.last_error_message || info.pending_update_count > 100) {
    log().warn('telegram webhook unhealthy', { pending: info.pending_update_count, lastError: info.last_error_message });
  }
  return { pending: info.pending_update_count, lastError: info.last_error_message ?? null };
}

/**
 * Makes each linked channel's Telegram sync state true again, with work proportional to what was ingested
 * since the last pass, whatever the channel's size. Every ingestion writes a row to the channel's ingestion
 * log (telegram_ingest_log) with its index row; a pass reads the log after the channel's checkpoint, counts each
 * message once (its index row records which log row counted it, so a message logged twice, or a page replayed
 * after a crash, is counted once), moves the count, the first and last id, the last ingestion and the gaps in
 * the id sequence forward, and saves them with the checkpoint in one row. The checkpoint only passes log rows
 * older than a grace (a logged batch replayed late lands within it); newer ones are read again next pass.
 * Then what differs is repaired (the exact count in telegram_sync_state.ingested_count; the live counter, the
 * last id and the last ingestion against the count state plus the newer log rows), and missing ids are fetched
 * from the history source when one is configured. A channel reconciled for the first time imports the old
 * index (telegram_channel_messages) once, resumably; after that the old table is never read.
 */
import { linkedChannelsPage } from '../../channels/telegram-links.js';
import type { Config } from '../../config.js';
import { log } from '../../log.js';
import { finishTelegramPass, loadCheckpoint, loadTelegramPass, saveCheckpoint, saveTelegramPass } from '../../reconciler/store.js';
import { resolveTelegramBotToken } from '../../secrets.js';
import { fetchHistory, getWebhookInfo } from '../../telegram/bot-api.js';
import {
  countedMarks,
  importLegacyRows,
  INGEST_LOG_TTL_MS,
  ingestLogPage,
  legacyIndexPage,
  logDayOf,
  markCounted,
  type LogEntry,
  type LogPosition,
} from '../../telegram/store.js';
import {
  adjustIngestionCount,
  loadCountState,
  markReconciled,
  readIngestionCounter,
  readSyncState,
  repairLastIngestedAt,
  repairLastTelegramMessageId,
  repairTelegramChatId,
  saveBackfilled,
  saveCountedIngestions,
  saveCountState,
  saveWebhookHealth,
  type CountState,
  type Gap,
} from '../../telegram/sync-state-store.js';
import { ingestUpdate } from '../telegram.js';
import type { Budget } from './budget.js';
import { stableMismatch } from './drift.js';

const PAGE = 1000;
/** Log rows per page: each page is one mark lookup and one save of the count state. */
const LOG_PAGE = 500;
const MAX_GAPS_KEPT = 1000;
const MAX_BACKFILL_PER_CHANNEL = 500;
const CHANNELS_CHECKPOINT = 'telegram:channels';
/**
 * The checkpoint passes a log row once it is this old: an ingestion's logged batch that lands late (a batchlog
 * replay after its coordinator died) lands within it, as for the search outbox's sweep.
 */
export const TELEGRAM_LOG_GRACE_MS = 120_000;
/** Past every Telegram id: a checkpoint at (t, AFTER_ALL_IDS) has passed every row logged at t. */
const AFTER_ALL_IDS = Number.MAX_SAFE_INTEGER;

export interface TelegramReconcileOptions {
  /** Tests shorten it: they cannot wait two minutes for their own ingestions to settle. */
  graceMs?: number;
}

export interface ChannelReport {
  channelId: string;
  complete: boolean;
  repaired: string[];
  gaps: number;
  backfilled: number;
  /** Log rows this pass counted (each a message counted for the first time). */
  counted: number;
}

/** Adds `id` to what the count state covers: extends it, or fills (part of) a gap. */
function applyId(state: CountState, id: number): void {
  const { firstTelegramMessageId: first, lastTelegramMessageId: last } = state;
  if (first === null || last === null) {
    state.firstTelegramMessageId = id;
    state.lastTelegramMessageId = id;
  } else if (id > last) {
    if (id > last + 1) state.gaps.push([last + 1, id - 1]);
    state.lastTelegramMessageId = id;
  } else if (id < first) {
    if (id < first - 1) state.gaps.unshift([id + 1, first - 1]);
    state.firstTelegramMessageId = id;
  } else {
    const at = state.gaps.findIndex(([from, to]) => from <= id && id <= to);
    if (at < 0) return;
    const [from, to] = state.gaps[at]!;
    const pieces: Gap[] = [];
    if (from < id) pieces.push([from, id - 1]);
    if (id < to) pieces.push([id + 1, to]);
    state.gaps.splice(at, 1, ...pieces);
  }
}

/** Keeps the lowest gaps (backfill works from the oldest); says how many were let go. */
function capGaps(channelId: string, state: CountState): void {
  if (state.gaps.length <= MAX_GAPS_KEPT) return;
  const dropped = state.gaps.length - MAX_GAPS_KEPT;
  state.gaps = state.gaps.slice(0, MAX_GAPS_KEPT);
  log().warn('telegram gaps over the cap; the newest are not kept', { channelId, dropped, kept: MAX_GAPS_KEPT });
}

/**
 * Counts the log rows of one page that count a message for the first time, and marks those. A row counts when
 * its message is indexed and has no mark, or a mark from this very row (a page that was marked, then not saved).
 */
async function countPage(channelId: string, entries: readonly LogEntry[]): Promise<LogEntry[]> {
  const marks = await countedMarks(
    channelId,
    entries.map((entry) => entry.telegramMessageId),
  );
  const counted: LogEntry[] = [];
  for (const entry of entries) {
    if (!marks.has(entry.telegramMessageId)) continue;
    const mark = marks.get(entry.telegramMessageId);
    if (mark !== null && mark !== entry.loggedAt.getTime()) continue;
    counted.push(entry);
    // A later row of the same message in this page finds it counted.
    marks.set(entry.telegramMessageId, entry.loggedAt.getTime());
  }
  // Marks before the save: a crash between them replays the page, which recognises its own marks.
  await markCounted(channelId, counted);
  return counted;
}

/** The log rows after `after`, page by page, from its day to tomorrow (a writer's clock may run ahead). */
async function* logAfter(channelId: string, after: LogPosition, nowMs: number): AsyncGenerator<LogEntry[]> {
  for (let day = logDayOf(after.atMs); day <= logDayOf(nowMs) + 1; day++) {
    let position = after;
    for (;;) {
      const entries = await ingestLogPage(channelId, day, position, LOG_PAGE);
      if (entries.length > 0) yield entries;
      if (entries.length < LOG_PAGE) break;
      const last = entries[entries.length - 1]!;
      position = { atMs: last.loggedAt.getTime(), telegramMessageId: last.telegramMessageId };
    }
  }
}

/**
 * Counts the log rows from the checkpoint up to the horizon (now less the grace) into the state, saving it
 * with the checkpoint after every page; returns false if time ran out.
 */
async function countSettled(channelId: string, state: CountState, budget: Budget, nowMs: number, graceMs: number): Promise<{ complete: boolean; counted: number }> {
  const horizonMs = nowMs - graceMs;
  const startDay = logDayOf(state.through.atMs);
  let counted = 0;
  for await (const entries of logAfter(channelId, state.through, nowMs)) {
    const settled = entries.filter((entry) => entry.loggedAt.getTime() <= horizonMs);
    if (settled.length > 0) {
      const fresh = await countPage(channelId, settled);
      for (const entry of [...fresh].sort((a, b) => a.telegramMessageId - b.telegramMessageId)) {
        applyId(state, entry.telegramMessageId);
        if (!state.lastIngestedAt || entry.loggedAt > state.lastIngestedAt) state.lastIngestedAt = entry.loggedAt;
      }
      capGaps(channelId, state);
      state.counted += fresh.length;
      counted += fresh.length;
      const last = settled[settled.length - 1]!;
      state.through = { atMs: last.loggedAt.getTime(), telegramMessageId: last.telegramMessageId };
      await saveCountState(channelId, state);
    }
    // Rows are in log order: past the first newer than the horizon, all are.
    if (settled.length < entries.length) break;
    if (budget.exhausted()) return { complete: false, counted };
  }
  // Every row up to the horizon is counted. Saved when it moves the checkpoint to another day (so an idle
  // channel's pass keeps reading one or two partitions), not on every pass.
  const moved = { atMs: Math.max(state.through.atMs, horizonMs), telegramMessageId: AFTER_ALL_IDS };
  if (logDayOf(moved.atMs) !== startDay && moved.atMs > state.through.atMs) {
    state.through = moved;
    await saveCountState(channelId, state);
  } else if (moved.atMs > state.through.atMs) {
    state.through = moved;
  }
  return { complete: true, counted };
}

/** What the log holds after the checkpoint (not counted yet): messages, the last id, the last ingestion. */
async function uncountedAfter(channelId: string, through: LogPosition, nowMs: number): Promise<{ messages: number; lastId: number | null; lastAt: Date | null }> {
  const entries: LogEntry[] = [];
  for await (const page of logAfter(channelId, through, nowMs)) entries.push(...page);
  const marks = await countedMarks(
    channelId,
    entries.map((entry) => entry.telegramMessageId),
  );
  const uncounted = new Set<number>();
  let lastId: number | null = null;
  let lastAt: Date | null = null;
  for (const entry of entries) {
    if (!marks.has(entry.telegramMessageId)) continue;
    if (marks.get(entry.telegramMessageId) === null) uncounted.add(entry.telegramMessageId);
    lastId = Math.max(lastId ?? 0, entry.telegramMessageId);
    if (!lastAt || entry.loggedAt > lastAt) lastAt = entry.loggedAt;
  }
  return { messages: uncounted.size, lastId, lastAt };
}

/**
 * A channel reconciled for the first time: its old index (one partition, telegram_channel_messages) is walked
 * once in id order, copied into the bucketed index marked counted, and becomes the count state, whose
 * checkpoint starts where the ingestion log can begin. Resumable (the old pass cursor); undefined if time ran out.
 */
async function importOldIndex(channelId: string, budget: Budget, nowMs: number): Promise<CountState | undefined> {
  const pass = await loadTelegramPass(channelId);
  for (;;) {
    if (budget.exhausted()) {
      await saveTelegramPass(channelId, pass);
      return undefined;
    }
    const rows = await legacyIndexPage(channelId, pass.cursor, PAGE);
    await importLegacyRows(channelId, rows);
    for (const { telegramMessageId: id, ingestedAt } of rows) {
      if (pass.cursor > 0 && id > pass.cursor + 1 && pass.gaps.length < MAX_GAPS_KEPT) pass.gaps.push([pass.cursor + 1, id - 1]);
      pass.cursor = id;
      pass.count += 1;
      if (ingestedAt && ingestedAt.getTime() > 0 && (!pass.lastIngestedAt || ingestedAt > pass.lastIngestedAt)) pass.lastIngestedAt = ingestedAt;
    }
    if (rows.length < PAGE) break;
  }
  const first = pass.count > 0 ? ((await legacyIndexPage(channelId, 0, 1))[0]?.telegramMessageId ?? null) : null;
  const state: CountState = {
    // Log rows older than the TTL are gone; an hour inside it, so a first pass does not warn of lost rows.
    through: { atMs: nowMs - INGEST_LOG_TTL_MS + 3_600_000, telegramMessageId: AFTER_ALL_IDS },
    counted: pass.count,
    firstTelegramMessageId: first,
    lastTelegramMessageId: pass.count > 0 ? pass.cursor : null,
    lastIngestedAt: pass.lastIngestedAt && pass.lastIngestedAt.getTime() > 0 ? pass.lastIngestedAt : null,
    gaps: pass.gaps,
  };
  await saveCountState(channelId, state);
  await finishTelegramPass(channelId, state.gaps, 0);
  return state;
}

async function repairSyncState(channelId: string, telegramChatId: number, state: CountState, nowMs: number, settleMs: number): Promise<string[]> {
  const repaired: string[] = [];
  const [sync, newer] = await Promise.all([readSyncState(channelId), uncountedAfter(channelId, state.through, nowMs)]);
  const lastId = newer.lastId === null ? state.lastTelegramMessageId : Math.max(newer.lastId, state.lastTelegramMessageId ?? 0);
  if (lastId !== null && sync.lastTelegramMessageId !== lastId) {
    // One microsecond above whatever wrote the wrong value, so the repair wins without erasing later
    // ingestions' ordering (they write at Telegram's send time).
    const timestamp = (sync.lastWrittenMicros ?? BigInt(Date.now() * 1000)) + 1n;
    await repairLastTelegramMessageId(channelId, lastId, timestamp);
    repaired.push('last_telegram_message_id');
  }
  const lastIngestedAt = [state.lastIngestedAt, newer.lastAt].reduce<Date | null>((max, at) => (at && (!max || at > max) ? at : max), null);
  if (lastIngestedAt && (!sync.lastIngestedAt || sync.lastIngestedAt < lastIngestedAt)) {
    await repairLastIngestedAt(channelId, lastIngestedAt);
    repaired.push('last_ingested_at');
  }
  if (sync.telegramChatId !== telegramChatId) {
    await repairTelegramChatId(channelId, telegramChatId);
    repaired.push('telegram_chat_id');
  }
  // The exact count as of the checkpoint: a plain value, written when it changed.
  if (sync.countedIngestions !== state.counted) await saveCountedIngestions(channelId, state.counted);
  // The live counter against the exact count plus what the log holds beyond the checkpoint: read from the
  // checkpoint on (a grace's worth of rows), never the channel's history.
  const observe = async () => {
    const [recorded, beyond] = await Promise.all([readIngestionCounter(channelId), uncountedAfter(channelId, state.through, Date.now())]);
    return { truth: state.counted + beyond.messages, recorded };
  };
  const drift = sync.ingestedCount === state.counted + newer.messages ? undefined : await stableMismatch(observe, (a, b) => a === b, settleMs);
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
  options: TelegramReconcileOptions = {},
): Promise<ChannelReport> {
  const nowMs = Date.now();
  const incomplete = { channelId, complete: false, repaired: [], gaps: 0, backfilled: 0 };
  const state = (await loadCountState(channelId)) ?? (await importOldIndex(channelId, budget, nowMs));
  if (!state) return { ...incomplete, counted: 0 };
  if (state.through.atMs < nowMs - INGEST_LOG_TTL_MS) {
    log().warn('telegram ingest log checkpoint older than the log TTL; expired ingestions are missing from the count', {
      channelId,
      checkpoint: new Date(state.through.atMs).toISOString(),
    });
  }
  const { complete, counted } = await countSettled(channelId, state, budget, nowMs, options.graceMs ?? TELEGRAM_LOG_GRACE_MS);
  if (!complete) return { ...incomplete, counted };
  const repaired = await repairSyncState(channelId, telegramChatId, state, nowMs, settleMs);
  const backfilled = await backfill(config, telegramChatId, state.gaps, budget);
  // Gaps that a backfill filled close when the next pass counts the backfilled messages' log rows.
  if (backfilled > 0) await saveBackfilled(channelId, backfilled);
  await markReconciled(channelId, new Date());
  if (repaired.length > 0) log().warn('telegram sync state repaired', { channelId, repaired });
  return { channelId, complete: true, repaired, gaps: state.gaps.length, backfilled, counted };
}

/** Every linked channel, a page at a time from the checkpoint; returns when done or out of time. */
export async function reconcileLinkedChannels(
  config: Config['telegram'],
  budget: Budget,
  settleMs: number,
  options: TelegramReconcileOptions = {},
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
      const report = await reconcileChannel(channel.channelId, channel.telegramChatId, config, budget, settleMs, options);
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

/**
 * The Telegram pass of the reconciler is incremental (issue 16.3): it counts what the ingestion log holds
 * after the channel's checkpoint, keeps the count exact in telegram_sync_state.ingested_count through
 * duplicates, a second log row of one message and a replayed page, and a pass with nothing new costs the same
 * whatever the channel holds. Real stores; the webhook is the real local API.
 */
import cassandra from 'cassandra-driver';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { getScylla } from '../../lib/scylla/client.js';
import { read, write } from '../../lib/scylla/execute.js';
import { findTelegramMessage, indexBucketOf, indexedTelegramIdPages, recordIngestion } from '../../lib/telegram/store.js';
import { readSyncState } from '../../lib/telegram/sync-state-store.js';
import { Budget } from '../../lib/use-cases/reconciler/budget.js';
import { reconcileChannel } from '../../lib/use-cases/reconciler/telegram.js';
import { useLocalApi } from '../support/api.js';
import { deliverTo, linkedChannel, textMessage, update } from '../support/telegram.js';

const api = useLocalApi();
const { Long } = cassandra.types;
const deliver = (body: unknown) => deliverTo(api, body);

/** A pass as the scheduled run makes it, but without the two-minute grace a test cannot wait out. */
function pass(channelId: string, chatId: number) {
  return reconcileChannel(channelId, chatId, getConfig().telegram, Budget.fromRemaining(120_000, 0), getConfig().reconcilerSettleMs, { graceMs: 0 });
}

async function exactCount(channelId: string): Promise<number | null> {
  const row = (await read('SELECT ingested_count FROM telegram_sync_state WHERE channel_id = ?', [channelId])).first();
  return (row?.get('ingested_count') as cassandra.types.Long | null | undefined)?.toNumber() ?? null;
}

async function deliverIds(chatId: number, ids: readonly number[], concurrency = 8): Promise<void> {
  for (let i = 0; i < ids.length; i += concurrency) {
    const responses = await Promise.all(ids.slice(i, i + concurrency).map((id) => deliver(update('message', textMessage(chatId, id, `m${id}`)))));
    for (const response of responses) expect(response.status).toBe(200);
  }
}

interface Sent {
  query: string;
  responseBytes: number;
}

const TrackerBase = (cassandra.tracker as unknown as { RequestTracker: new () => object }).RequestTracker;

/** Records the Telegram statements a pass sends and the bytes each response carried (rows read show there). */
class TelegramStatements extends TrackerBase implements cassandra.tracker.RequestTracker {
  readonly sent: Sent[] = [];
  shutdown(): void {}
  onSuccess(_host: unknown, query: unknown, _parameters: unknown, _options: unknown, _requestLength: number, responseLength: number): void {
    const text = typeof query === 'string' ? query : JSON.stringify(query);
    // Only this pass's tables: other work of the process (the worker-id lease) is not the pass's.
    if (/telegram_/.test(text)) this.sent.push({ query: text, responseBytes: responseLength });
  }
  onError(): void {}
}

async function tracked<T>(work: () => Promise<T>): Promise<{ result: T; sent: Sent[] }> {
  const tracker = new TelegramStatements();
  const options = (await getScylla() as unknown as { options: { requestTracker: cassandra.tracker.RequestTracker | null } }).options;
  const before = options.requestTracker;
  options.requestTracker = tracker;
  try {
    return { result: await work(), sent: tracker.sent };
  } finally {
    options.requestTracker = before;
  }
}

describe('incremental Telegram reconciliation', () => {
  it('writes an exact ingested_count through duplicates, a second log row of one message and a replayed page', async () => {
    const { channelId, chatId } = await linkedChannel(api);
    await deliverIds(chatId, [1, 2, 3, 4, 5]);
    // Redeliveries, one of them 10 times at once: each answers duplicate and none is counted.
    const again = await Promise.all([2, 3, ...Array.from({ length: 10 }, () => 4)].map((id) => deliver(update('message', textMessage(chatId, id, `m${id}`)))));
    expect(again.map((response) => response.body.status)).toEqual(Array.from({ length: 12 }, () => 'duplicate'));

    const first = await pass(channelId, chatId);
    expect(first).toMatchObject({ complete: true, gaps: 0 });
    expect(await exactCount(channelId)).toBe(5);
    expect(await readSyncState(channelId)).toMatchObject({ ingestedCount: 5, countedIngestions: 5, lastTelegramMessageId: 5 });

    // A writer completing a claim whose first writer it thought dead logs message 3 a second time.
    const three = (await findTelegramMessage(chatId, 3))!;
    await recordIngestion(channelId, chatId, 3, three.messageId, Date.now(), false);
    // A pass that marked message 6's log row counted and died before saving its count: the next pass recognises
    // the mark as its own and counts it.
    await deliverIds(chatId, [6]);
    const six = (await read('SELECT logged_at FROM telegram_ingest_log WHERE channel_id = ? AND day = ?', [channelId, Math.floor(Date.now() / 86_400_000)])).rows
      .map((row) => row.get('logged_at') as Date)
      .sort((a, b) => a.getTime() - b.getTime())
      .at(-1)!;
    await write('UPDATE telegram_channel_index SET counted_at = ? WHERE channel_id = ? AND bucket = ? AND telegram_message_id = ?', [six, channelId, indexBucketOf(6), Long.fromNumber(6)]);

    const second = await pass(channelId, chatId);
    expect(second).toMatchObject({ complete: true, counted: 1 });
    expect(await exactCount(channelId)).toBe(6);
    expect(await readSyncState(channelId)).toMatchObject({ ingestedCount: 6, countedIngestions: 6, lastTelegramMessageId: 6 });
  });

  it('re-records, on redelivery, an ingestion whose writer died after storing the message', async () => {
    const { channelId, chatId } = await linkedChannel(api);
    await deliverIds(chatId, [1, 2]);
    // The writer stored message 2 and died before its ingestion record.
    await write('DELETE FROM telegram_channel_index WHERE channel_id = ? AND bucket = ? AND telegram_message_id = ?', [channelId, indexBucketOf(2), Long.fromNumber(2)]);
    await write('DELETE FROM telegram_ingest_log WHERE channel_id = ? AND day = ?', [channelId, Math.floor(Date.now() / 86_400_000)]);
    await write('UPDATE telegram_ingest_counts SET ingested = ingested - 1 WHERE channel_id = ?', [channelId]);
    await deliverIds(chatId, [1]);
    // Message 1 was indexed, so its redelivery recorded nothing: the log holds nothing to count yet.
    expect((await pass(channelId, chatId)).counted).toBe(0);
    expect(await exactCount(channelId)).toBe(0);
    // Message 2 was not: its redelivery records it, and the next pass counts it (and corrects the counter).
    expect((await deliver(update('message', textMessage(chatId, 2, 'm2')))).body.status).toBe('duplicate');
    expect((await pass(channelId, chatId)).counted).toBe(1);
    expect(await readSyncState(channelId)).toMatchObject({ countedIngestions: 1, ingestedCount: 1 });
  });

  it('a pass with nothing new sends the same statements and reads the same bytes for 3 and 300 messages', async () => {
    const small = await linkedChannel(api);
    const large = await linkedChannel(api);
    await deliverIds(small.chatId, [1, 2, 3]);
    await deliverIds(large.chatId, Array.from({ length: 300 }, (_, i) => i + 1), 16);
    await pass(small.channelId, small.chatId);
    await pass(large.channelId, large.chatId);

    const idleSmall = await tracked(() => pass(small.channelId, small.chatId));
    const idleLarge = await tracked(() => pass(large.channelId, large.chatId));
    // Sorted: independent reads go out side by side.
    const queries = (sent: Sent[]) => sent.map((s) => s.query).sort();
    expect(queries(idleLarge.sent)).toEqual(queries(idleSmall.sent));
    const bytes = (sent: Sent[]) => sent.reduce((sum, s) => sum + s.responseBytes, 0);
    // 297 more index rows would be kilobytes more; a few bytes may differ (varints of a count).
    expect(Math.abs(bytes(idleLarge.sent) - bytes(idleSmall.sent))).toBeLessThan(64);
    expect(idleLarge.sent.length).toBeLessThanOrEqual(12);
    expect(idleLarge.result).toMatchObject({ complete: true, counted: 0, repaired: [] });
    expect(await exactCount(large.channelId)).toBe(300);
  });

  it('imports a channel’s old index once, then counts on from the log, across index buckets', async () => {
    const { channelId, chatId } = await linkedChannel(api);
    // Rows of the index before 16.3, as ingestion wrote them then (no log rows, no counter).
    for (const id of [65_530, 65_531, 65_533]) {
      await write('INSERT INTO telegram_channel_messages (channel_id, telegram_message_id, message_id, ingested_at) VALUES (?, ?, ?, ?)', [
        channelId,
        Long.fromNumber(id),
        Long.fromNumber(1_000_000 + id),
        new Date(Date.now() - 60_000),
      ]);
    }
    await deliverIds(chatId, [65_535, 65_536, 65_538]);
    const report = await pass(channelId, chatId);
    expect(report).toMatchObject({ complete: true, counted: 3 });
    expect(await exactCount(channelId)).toBe(6);
    const gaps = (await read('SELECT gaps FROM telegram_reconcile_state WHERE channel_id = ?', [channelId])).first().get('gaps');
    expect(JSON.parse(gaps)).toEqual([[65_532, 65_532], [65_534, 65_534], [65_537, 65_537]]);
    const ids: number[] = [];
    for await (const page of indexedTelegramIdPages(channelId, 2)) ids.push(...page);
    expect(ids).toEqual([65_530, 65_531, 65_533, 65_535, 65_536, 65_538]);
    expect(new Set(ids.map(indexBucketOf))).toEqual(new Set([0, 1]));
    // The old table is not read again.
    await write('INSERT INTO telegram_channel_messages (channel_id, telegram_message_id, message_id, ingested_at) VALUES (?, ?, ?, ?)', [channelId, Long.fromNumber(10), Long.fromNumber(10), new Date()]);
    await pass(channelId, chatId);
    expect(await exactCount(channelId)).toBe(6);
  });
});

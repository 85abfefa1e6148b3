/**
 * The scheduled reconciler against the real stores. The Bot API and the history source are a local HTTP
 * stand-in (Telegram is outside this machine); everything else is real.
 */
import cassandra from 'cassandra-driver';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { encodeCursor, EVERYONE } from '../../lib/changes/model.js';
import { enqueueOutbox } from '../../lib/changes/outbox-store.js';
import { changeStatement } from '../../lib/changes/store.js';
import { pgQuery, withPostgresTransaction } from '../../lib/postgres/pool.js';
import { getConfig, loadConfig } from '../../lib/config.js';
import { firstSnowflakeAt } from '../../lib/ids/snowflake.js';
import { closePostgres } from '../../lib/postgres/pool.js';
import { countReactionRows, reactionCounts } from '../../lib/reactions/store.js';
import { acquireRunLock, releaseRunLock } from '../../lib/reconciler/store.js';
import { nextMessageId } from '../../lib/ids/worker-lease.js';
import type { MessageRecord } from '../../lib/messages/model.js';
import { insertMessage } from '../../lib/messages/store.js';
import { BACKLOG_SHARDS, backlogBatch, deadLetters, enqueueIndexing } from '../../lib/search/backlog.js';
import { OUTBOX_SLOT_MS, slotOf } from '../../lib/search/outbox.js';
import { Budget } from '../../lib/use-cases/reconciler/budget.js';
import { sweepSearchOutbox, SWEEP_GRACE_MS } from '../../lib/use-cases/reconciler/search-sweep.js';
import { reconcileChannel } from '../../lib/use-cases/reconciler/telegram.js';
import { indexMessageChange } from '../../lib/use-cases/search-indexing.js';
import { read, write, writeAtomically } from '../../lib/scylla/execute.js';
import { readSyncState } from '../../lib/telegram/sync-state-store.js';
import { useLocalApi } from '../support/api.js';
import { deliverTo, linkedChannel, startTelegramStandIn, textMessage, update, type StandIn } from '../support/telegram.js';

const api = useLocalApi();
let standIn: StandIn;
let reconcile: typeof import('../../functions/reconcile.js').handler;
const context = { getRemainingTimeInMillis: () => 120_000, awsRequestId: 'reconcile-test' } as unknown as Context;
const { Long } = cassandra.types;

beforeAll(async () => {
  standIn = await startTelegramStandIn();
  process.env.TELEGRAM_BOT_TOKEN = '123456:test-token';
  process.env.TELEGRAM_API_URL = standIn.url;
  process.env.TELEGRAM_HISTORY_URL = `${standIn.url}/history`;
  loadConfig();
  ({ handler: reconcile } = await import('../../functions/reconcile.js'));
});

afterAll(async () => {
  await standIn.close();
});

const deliver = (body: unknown) => deliverTo(api, body);


describe('reconciler', () => {
  it('repairs a deliberately corrupted sync state and records the gaps in the Telegram id sequence', async () => {
    const { channelId, chatId } = await linkedChannel(api);
    for (const id of [1, 2, 3, 7, 8, 12]) await deliver(update('message', textMessage(chatId, id, `m${id}`)));
    await write('UPDATE telegram_sync_state SET last_telegram_message_id = ?, last_ingested_at = ? WHERE channel_id = ?', [Long.fromNumber(2), new Date(0), channelId]);
    await write('UPDATE telegram_ingest_counts SET ingested = ingested + 40 WHERE channel_id = ?', [channelId]);
    expect(await readSyncState(channelId)).toMatchObject({ lastTelegramMessageId: 2, ingestedCount: 46 });

    // The scheduled run counts only ingestions older than its grace (two minutes): a test passes it 0.
    const channelReport = await reconcileChannel(channelId, chatId, getConfig().telegram, Budget.fromRemaining(120_000, 0), getConfig().reconcilerSettleMs, { graceMs: 0 });
    expect(channelReport).toMatchObject({ complete: true, gaps: 2, counted: 6 });
    expect(channelReport?.repaired.sort()).toEqual(['ingested_count', 'last_ingested_at', 'last_telegram_message_id']);
    const repaired = await readSyncState(channelId);
    expect(repaired).toMatchObject({ telegramChatId: chatId, lastTelegramMessageId: 12, ingestedCount: 6, countedIngestions: 6 });
    expect(repaired.lastIngestedAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    const gaps = (await read('SELECT gaps FROM telegram_reconcile_state WHERE channel_id = ?', [channelId])).first().get('gaps');
    expect(JSON.parse(gaps)).toEqual([[4, 6], [9, 11]]);

    // Ingestion keeps advancing the state after the repair (a message sent now, after the repair).
    await deliver(update('message', textMessage(chatId, 13, 'm13', { date: Math.floor(Date.now() / 1000) + 1 })));
    expect((await readSyncState(channelId)).lastTelegramMessageId).toBe(13);
  });

  it('backfills missing messages from the history source, exactly once', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    for (const id of [20, 24]) await deliver(update('message', textMessage(chatId, id, `live ${id}`)));
    standIn.history.set(chatId, [21, 22, 23].map((id) => textMessage(chatId, id, `history ${id}`)));
    const pass = () => reconcileChannel(channelId, chatId, getConfig().telegram, Budget.fromRemaining(120_000, 0), getConfig().reconcilerSettleMs, { graceMs: 0 });
    expect(await pass()).toMatchObject({ gaps: 1, backfilled: 3 });
    const contents = (await owner.get(`/channels/${channelId}/messages`)).body.messages.map((m: { content: string }) => m.content);
    expect(contents).toEqual(['live 24', 'history 23', 'history 22', 'history 21', 'live 20']);
    expect(standIn.requests).toContain(`GET /history/chats/${chatId}/messages?from_id=21&to_id=23`);
    // The next pass counts the backfilled messages, which close the gap: nothing more to fetch.
    expect(await pass()).toMatchObject({ gaps: 0, backfilled: 0, counted: 3 });
    expect((await owner.get(`/channels/${channelId}/messages`)).body.messages).toHaveLength(5);
    expect(await readSyncState(channelId)).toMatchObject({ ingestedCount: 5, countedIngestions: 5 });
    // The scheduled run goes over every linked channel, this one included.
    const scheduled = await reconcile({}, context);
    expect(scheduled.channels?.find((entry) => entry.channelId === channelId)).toMatchObject({ complete: true, gaps: 0 });
  });

  it('records the webhook health reported by getWebhookInfo', async () => {
    const report = await reconcile({}, context);
    expect(report.webhook).toEqual({ pending: 3, lastError: 'Connection timed out' });
    const row = (await read('SELECT pending_update_count, last_error_message FROM telegram_webhook_health WHERE bot = ?', ['123456'])).first();
    expect(row.get('pending_update_count')).toBe(3);
    expect(row.get('last_error_message')).toBe('Connection timed out');
  });

  it('repairs a deliberately drifted reaction counter', async () => {
    const started = Date.now();
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'drift' })).body.id;
    const messageId = (await owner.post(`/channels/${channelId}/messages`, { content: 'x' })).body.id;
    await owner.put(`/channels/${channelId}/messages/${messageId}/reactions/${encodeURIComponent('👍')}`);
    await write("UPDATE message_reaction_counts SET count = count + 5 WHERE channel_id = ? AND message_id = ? AND emoji = '👍'", [channelId, Long.fromString(messageId)]);
    await write("UPDATE message_reaction_counts SET count = count + 2 WHERE channel_id = ? AND message_id = ? AND emoji = '🔥'", [channelId, Long.fromString(messageId)]);
    expect(Object.fromEntries(await reactionCounts(channelId, BigInt(messageId)))).toEqual({ '👍': 6, '🔥': 2 });

    const report = await reconcile({}, context);
    expect(report.reactions?.repaired).toBeGreaterThanOrEqual(1);
    expect(Object.fromEntries(await reactionCounts(channelId, BigInt(messageId)))).toEqual(Object.fromEntries(await countReactionRows(channelId, BigInt(messageId))));
    expect((await owner.get(`/channels/${channelId}/messages/${messageId}/reactions`)).body.counts).toEqual({ '👍': 1 });
    // Clients show counts: each correction goes to the changes feed, with no user and the corrected count.
    const since = encodeCursor(firstSnowflakeAt(started));
    await new Promise((resolve) => setTimeout(resolve, getConfig().changes.clockSkewMs + getConfig().changes.writeDeadlineMs + 50));
    const feed = await owner.get(`/channels/${channelId}/changes?after=${encodeURIComponent(since)}&limit=500`);
    const repairs = (feed.body.changes as { type: string; user_id?: string | null }[]).filter((change) => change.type.startsWith('reaction.') && change.user_id === null);
    expect(repairs.map(({ type, emoji, count }: Record<string, unknown>) => ({ type, emoji, count })).sort((a, b) => String(a.emoji).localeCompare(String(b.emoji)))).toEqual(
      [
        { type: 'reaction.removed', emoji: '👍', count: 1 },
        { type: 'reaction.removed', emoji: '🔥', count: 0 },
      ].sort((a, b) => a.emoji.localeCompare(b.emoji)),
    );
  });

  it('stores messages while PostgreSQL is unreachable and makes them searchable once the sweep runs', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'outage' })).body.id;
    const workingUrl = getConfig().postgres.url!;
    await closePostgres();
    process.env.DATABASE_URL = 'postgres://postgres@127.0.0.1:1/postgres';
    loadConfig();
    let written = 0;
    try {
      const created = await owner.post(`/channels/${channelId}/messages`, { content: 'written during the outage' });
      written = Date.now();
      expect(created.status).toBe(201);
      expect((await owner.get(`/channels/${channelId}/messages/${created.body.id}`)).status).toBe(200);
      expect((await owner.get(`/channels/${channelId}/search?q=outage`)).status).toBe(503);
      // The sweep while PostgreSQL is still down stops where it is, without an error of the run.
      const during = await sweepSearchOutbox(Budget.fromRemaining(60_000, 0), { graceMs: 0, now: written + OUTBOX_SLOT_MS });
      expect(during).toMatchObject({ complete: false, error: expect.stringMatching(/\S/) });
    } finally {
      await closePostgres();
      process.env.DATABASE_URL = workingUrl;
      loadConfig();
    }
    expect((await owner.get(`/channels/${channelId}/search?q=outage`)).body.messages).toEqual([]);
    // The slot the message was written in, once over (the real grace is SWEEP_GRACE_MS; a test cannot wait it out).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (slotOf(written) + 1) * OUTBOX_SLOT_MS - Date.now() + 20)));
    const report = await sweepSearchOutbox(Budget.fromRemaining(60_000, 0), { graceMs: 0 });
    expect(report).toMatchObject({ complete: true });
    expect(report.repaired).toBeGreaterThanOrEqual(1);
    const found = await owner.get(`/channels/${channelId}/search?q=outage`);
    expect(found.body.messages.map((m: { content: string }) => m.content)).toEqual(['written during the outage']);
    // The scheduled run sweeps too (slots older than the grace) and reports how far behind it is.
    const scheduled = await reconcile({}, context);
    expect(scheduled.searchSweep).toMatchObject({ complete: true });
    expect(scheduled.searchSweep!.lagSeconds).toBeLessThan(SWEEP_GRACE_MS / 1000 + 2 * OUTBOX_SLOT_MS / 1000);
  });

  it('sets aside a backlog entry that can never be applied, counts it, and applies the entries behind it', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'dead letters' })).body.id;
    // Written with the store, bypassing the API (which refuses U+0000): content PostgreSQL will never take.
    const record = (id: bigint, content: string): MessageRecord => ({
      channelId, id, authorId: owner.userId, content, editedAt: null, replyToId: null, source: 'app', telegram: null, deleted: false, mentions: [], attachments: [],
    });
    const bad = record(await nextMessageId(), 'poison \u0000 pill');
    const behind = record(bad.id + BigInt(BACKLOG_SHARDS), 'queued behind the poison'); // the same shard, after it
    await insertMessage(bad);
    await insertMessage(behind);
    await enqueueIndexing(channelId, bad.id, 'index');
    await enqueueIndexing(channelId, behind.id, 'index');
    const shard = Number(bad.id % BigInt(BACKLOG_SHARDS));

    const metricsEnabled = process.env.METRICS_ENABLED;
    process.env.METRICS_ENABLED = 'true';
    loadConfig();
    const emf: string[] = [];
    const stdoutWrite = process.stdout.write.bind(process.stdout);
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.includes('"_aws"')) emf.push(...text.split('\n').filter(Boolean));
      else return (stdoutWrite as (...args: unknown[]) => boolean)(chunk, ...rest);
      return true;
    });
    let report;
    try {
      report = await reconcile({}, context);
    } finally {
      spy.mockRestore();
      if (metricsEnabled === undefined) delete process.env.METRICS_ENABLED;
      else process.env.METRICS_ENABLED = metricsEnabled;
      loadConfig();
    }
    expect(report.failures).toEqual([]);
    expect(report.searchBacklog).toMatchObject({ complete: true });
    expect(report.searchBacklog!.deadLettered).toBeGreaterThanOrEqual(1);
    const counted = emf
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => 'SearchBacklogDeadLettered' in line && line.route === 'reconcile')
      .reduce((sum, line) => sum + Number(line.SearchBacklogDeadLettered), 0);
    expect(counted).toBeGreaterThanOrEqual(1);

    const remaining = await backlogBatch(shard, 10_000);
    expect(remaining.filter((entry) => entry.channelId === channelId)).toEqual([]);
    const setAside = (await deadLetters(shard, 10_000)).filter((entry) => entry.channelId === channelId);
    expect(setAside).toHaveLength(1);
    expect(setAside[0]).toMatchObject({ messageId: bad.id, operation: 'index', error: expect.stringMatching(/\S/) });
    const found = await owner.get(`/channels/${channelId}/search?q=poison`);
    expect(found.body.messages.map((m: { id: string }) => m.id)).toEqual([behind.id.toString()]);

    // Applied by the indexer (not through the backlog), the same refusal is set aside directly and never queued.
    const direct = record(await nextMessageId(), 'direct \u0000 refusal');
    await insertMessage(direct);
    expect(await indexMessageChange(channelId, direct.id, 'index')).toBe('dead-lettered');
    expect(await indexMessageChange(channelId, direct.id, 'index')).toBe('dead-lettered');
    const directShard = Number(direct.id % BigInt(BACKLOG_SHARDS));
    expect((await backlogBatch(directShard, 10_000)).filter((entry) => entry.messageId === direct.id)).toEqual([]);
    // Set aside twice, kept once (its dead letter's id comes from the message id).
    expect((await deadLetters(directShard, 10_000)).filter((entry) => entry.messageId === direct.id)).toHaveLength(1);
  });

  it('relays changes left in the PostgreSQL outbox, once: a crash before the feed write, and one after it', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'outbox' })).body.id as string;
    const started = Date.now();
    const lost = { channelId, type: 'member.added' as const, audience: EVERYONE, body: { user_id: randomUUID() }, id: await nextMessageId() };
    const written = { channelId, type: 'member.removed' as const, audience: EVERYONE, body: { user_id: randomUUID() }, id: await nextMessageId() };
    // The state change and its outbox row committed; then the request died: before writing the change to the
    // feed (`lost`), or after writing it and before deleting the row (`written`). Both rows are past the grace.
    await withPostgresTransaction(async (query) => {
      for (const change of [lost, written]) {
        const outboxId = await enqueueOutbox(query, change);
        await query("UPDATE change_outbox SET created_at = now() - interval '5 minutes' WHERE id = $1", [outboxId]);
      }
    });
    await writeAtomically([changeStatement(written)]);

    const report = await reconcile({}, context);
    expect(report.changeOutbox?.relayed).toBeGreaterThanOrEqual(1);
    expect(report.changeOutbox?.alreadyRecorded).toBeGreaterThanOrEqual(1);
    expect((await pgQuery('SELECT 1 FROM change_outbox WHERE channel_id = $1', [channelId])).rowCount).toBe(0);

    await new Promise((resolve) => setTimeout(resolve, getConfig().changes.clockSkewMs + getConfig().changes.writeDeadlineMs + 50));
    const feed = await owner.get(`/channels/${channelId}/changes?after=${encodeURIComponent(encodeCursor(firstSnowflakeAt(started - 1000)))}&limit=500`);
    const members = (feed.body.changes as { type: string; user_id: string; cursor: string }[]).filter((change) => change.type.startsWith('member.'));
    expect(members.map(({ type, user_id }) => ({ type, user_id }))).toEqual([
      { type: 'member.removed', user_id: written.body.user_id },
      { type: 'member.added', user_id: lost.body.user_id },
    ]);
    // The relayed change has a fresh id (its own was minted before followers may have passed it).
    expect(members[1]!.cursor).not.toBe(encodeCursor(lost.id));
    expect(members[0]!.cursor).toBe(encodeCursor(written.id));
  });

  it('runs once when two start at the same time', async () => {
    const owner = await acquireRunLock(60);
    expect(owner).toBeDefined();
    expect(await reconcile({}, context)).toEqual({ ran: false });
    await releaseRunLock(owner!);
    expect((await reconcile({}, context)).ran).toBe(true);
  });
});

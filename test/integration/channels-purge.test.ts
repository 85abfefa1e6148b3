/**
 * The channel purge's completeness and resumability (the review of its first version): rows of former
 * members and service principals, a re-linked Telegram chat's mappings, Telegram updates after a delete,
 * a purge stopped inside a bucket, a purge abandoned and swept by the reconciler, and the bound on
 * statements in flight.
 */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { describe, expect, it } from 'vitest';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { markChatDeleted } from '../../lib/channels/chat-store.js';
import { markChannelMetadataDeleted } from '../../lib/channels/metadata-store.js';
import { getConfig } from '../../lib/config.js';
import { bucketOf } from '../../lib/ids/snowflake.js';
import { getScylla } from '../../lib/scylla/client.js';
import { PURGE_CONCURRENCY, purgeChannel, purgesInProgress } from '../../lib/use-cases/channel-purge.js';
import { Budget } from '../../lib/use-cases/reconciler/budget.js';
import { sweepUnfinishedPurges } from '../../lib/use-cases/reconciler/purges.js';
import { ingestUpdate } from '../../lib/use-cases/telegram.js';
import { channelOf, postMessage, useLocalApi } from '../support/api.js';
import { withCql, withPg } from '../support/stores.js';
import { deliverTo, linkedChannel, randomChatId, textMessage, update } from '../support/telegram.js';

const api = useLocalApi();
const service = () => api.user({ scope: SERVICE_SCOPE });
const { Long } = cassandra.types;
const ks = () => getConfig().scylla.keyspace;
const cql = async (query: string, params: unknown[]) =>
  withCql(async (client) => client.execute(query.replaceAll('{ks}', ks()), params, { prepare: true }));
const count = async (query: string, params: unknown[]) => (await cql(query, params)).rowLength;
const userRows = (channelId: string, userId: string) =>
  Promise.all([
    count('SELECT message_id FROM {ks}.message_read_positions WHERE channel_id = ? AND user_id = ?', [channelId, userId]),
    count('SELECT message_id FROM {ks}.message_mentions WHERE channel_id = ? AND user_id = ?', [channelId, userId]),
  ]);
const mappings = (chatId: number, telegramIds: number[]) =>
  count('SELECT message_id FROM {ks}.telegram_message_mapping WHERE telegram_message_id IN ? AND telegram_chat_id = ?', [
    telegramIds.map((id) => Long.fromNumber(id)),
    Long.fromNumber(chatId),
  ]);



/** As DELETE marks a channel, without requesting its purge (a purge lost to a restart, or stopped by hand). */
async function markDeleted(channelId: string): Promise<void> {
  expect(await markChatDeleted(channelId)).toBeDefined();
  await markChannelMetadataDeleted(channelId, new Date());
}

describe('the purge finds every user partition', () => {
  it('drops a leaving member’s read position and mentions at once, and a service’s read position with the channel', async () => {
    const owner = await api.user();
    const member = await api.user();
    const operator = await service();
    const channelId = await channelOf(owner, 'purge');
    expect((await owner.put(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    const first = await postMessage(owner, channelId, { content: 'hello @member', mentions: [member.userId] });
    expect((await member.put(`/channels/${channelId}/read-position`, { message_id: first })).status).toBe(200);
    expect((await operator.put(`/channels/${channelId}/read-position`, { message_id: first })).status).toBe(200);
    expect(await userRows(channelId, member.userId)).toEqual([1, 1]);

    expect((await member.delete(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    expect(await userRows(channelId, member.userId)).toEqual([0, 0]);

    expect(await userRows(channelId, operator.userId)).toEqual([1, 0]);
    expect((await owner.delete(`/channels/${channelId}`)).status).toBe(204);
    await purgesInProgress();
    expect(await userRows(channelId, operator.userId)).toEqual([0, 0]);
    expect(await count('SELECT user_id FROM {ks}.channel_readers WHERE channel_id = ?', [channelId])).toBe(0);
  });

  it('drops the partitions of readers the members table no longer names, with at most PURGE_CONCURRENCY statements in flight', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner, 'purge');
    const messageId = Long.fromString(await postMessage(owner, channelId, { content: 'x' }));
    // 150 former readers (their membership gone before removeMember cleaned up, as before this fix).
    const readers = Array.from({ length: 150 }, () => randomUUID());
    await withCql(async (client) => {
      const insert = (table: string, columns: string, params: unknown[]) =>
        client.execute(`INSERT INTO ${ks()}.${table} (${columns}) VALUES (${params.map(() => '?').join(', ')})`, params, { prepare: true });
      for (const userId of readers) {
        await Promise.all([
          insert('message_read_positions', 'channel_id, user_id, message_id', [channelId, userId, messageId]),
          insert('message_mentions', 'channel_id, user_id, message_id', [channelId, userId, messageId]),
          insert('channel_readers', 'channel_id, user_id', [channelId, userId]),
        ]);
      }
    });
    await markDeleted(channelId);

    const client = await getScylla();
    const execute = client.execute.bind(client);
    let inFlight = 0;
    let peak = 0;
    client.execute = (async (...args: Parameters<typeof execute>) => {
      peak = Math.max(peak, ++inFlight);
      try {
        return await execute(...args);
      } finally {
        inFlight -= 1;
      }
    }) as typeof client.execute;
    try {
      expect(await purgeChannel(channelId)).toBe('purged');
    } finally {
      client.execute = execute;
    }
    expect(peak).toBeGreaterThan(1);
    // 64 fan-out statements, plus at most a few of the steps around them.
    expect(peak).toBeLessThanOrEqual(64 + 4);
    expect(PURGE_CONCURRENCY).toBe(64);
    expect(await count('SELECT user_id FROM {ks}.message_read_positions WHERE channel_id IN ? AND user_id IN ?', [[channelId], readers])).toBe(0);
    expect(await count('SELECT user_id FROM {ks}.message_mentions WHERE channel_id = ? AND user_id IN ?', [channelId, readers])).toBe(0);
  });
});

describe('Telegram and the purge', () => {
  it('purges the mappings of a chat the channel was linked to before a re-link', async () => {
    const { owner, channelId, chatId: oldChat } = await linkedChannel(api);
    expect((await deliverTo(api, update('message', textMessage(oldChat, 1, 'from the old chat')))).status).toBe(200);
    const newChat = randomChatId();
    expect((await (await service()).post(`/channels/${channelId}/telegram-link`, { telegram_chat_id: newChat })).status).toBe(200);
    expect((await deliverTo(api, update('message', textMessage(newChat, 2, 'from the new chat')))).status).toBe(200);
    expect(await mappings(oldChat, [1])).toBe(1);
    expect(await mappings(newChat, [2])).toBe(1);

    expect((await owner.delete(`/channels/${channelId}`)).status).toBe(204);
    await purgesInProgress();
    expect(await mappings(oldChat, [1])).toBe(0);
    expect(await mappings(newChat, [2])).toBe(0);
    expect(await count('SELECT telegram_chat_id FROM {ks}.channel_telegram_chats WHERE channel_id = ?', [channelId])).toBe(0);
  });

  it('skips an update for a channel marked deleted, even while the chat still routes to it', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    // Another container's view: PostgreSQL's link still cached, channel_metadata already marked.
    await markChannelMetadataDeleted(channelId, new Date());
    expect(await ingestUpdate(update('message', textMessage(chatId, 5, 'too late')))).toEqual({ status: 'skipped', reason: 'channel deleted' });
    expect(await mappings(chatId, [5])).toBe(0);
    // Through the API: the delete drops this container's cached link at once.
    const other = await linkedChannel(api);
    expect((await deliverTo(api, update('message', textMessage(other.chatId, 1, 'cached')))).status).toBe(200);
    expect((await other.owner.delete(`/channels/${other.channelId}`)).status).toBe(204);
    expect(await ingestUpdate(update('message', textMessage(other.chatId, 2, 'after delete')))).toMatchObject({ status: 'skipped' });
    expect(await mappings(other.chatId, [2])).toBe(0);
    await purgesInProgress();
    void owner;
  });
});

describe('a purge stopped and resumed', () => {
  it('checkpoints inside a bucket after every page and resumes from there; threads without a counter go too', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner, 'purge');
    const parent = await postMessage(owner, channelId, { content: 'parent' });
    const ids = [parent];
    for (let i = 0; i < 4; i++) ids.push(await postMessage(owner, channelId, { content: `reply ${i}`, reply_to_id: parent }));
    const buckets = new Set(ids.map((id) => bucketOf(BigInt(id))));
    if (buckets.size > 1) return; // written across a bucket boundary: the single-bucket case is not set up
    const bucket = [...buckets][0]!;
    for (const id of ids) expect((await owner.put(`/channels/${channelId}/messages/${id}/reactions/${encodeURIComponent('👍')}`)).status).toBeLessThan(300);
    // A thread whose counter was never written (a crash between the index row and the counter).
    await cql('DELETE FROM {ks}.message_reply_counts WHERE channel_id = ? AND bucket = ?', [channelId, bucket]);
    const reactionRows = (messageIds: string[]) =>
      count('SELECT message_id FROM {ks}.message_reactions WHERE channel_id = ? AND message_id IN ?', [channelId, messageIds.map((id) => Long.fromString(id))]);
    await markDeleted(channelId);

    const newestFirst = [...ids].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1));
    let asked = 0;
    // Asked before the step, before the bucket, then after the first page of two ids: stop there.
    expect(await purgeChannel(channelId, { pageSize: 2, shouldStop: () => ++asked >= 3 })).toBe('paused');
    const checkpoint = (await cql('SELECT step, cursor FROM {ks}.channel_purges WHERE channel_id = ?', [channelId])).first();
    expect(checkpoint.get('step')).toBe('messages');
    expect(checkpoint.get('cursor')).toBe(`${bucket}:${newestFirst[1]}`);
    expect(await reactionRows(newestFirst.slice(0, 2))).toBe(0);
    expect(await reactionRows(newestFirst.slice(2))).toBe(3);
    expect(await count('SELECT message_id FROM {ks}.messages WHERE channel_id = ? AND bucket = ?', [channelId, bucket])).toBe(5);
    // The first page's replies named the parent (reply_to_id): its thread went with that page, counter or not.
    expect(await count('SELECT reply_id FROM {ks}.message_replies WHERE channel_id = ? AND parent_id = ?', [channelId, Long.fromString(parent)])).toBe(0);

    expect(await purgeChannel(channelId, { pageSize: 2 })).toBe('purged');
    expect(await reactionRows(ids)).toBe(0);
    expect(await count('SELECT message_id FROM {ks}.messages WHERE channel_id = ? AND bucket = ?', [channelId, bucket])).toBe(0);
    expect(await count('SELECT reply_id FROM {ks}.message_replies WHERE channel_id = ? AND parent_id = ?', [channelId, Long.fromString(parent)])).toBe(0);
  });

  it('is finished by the reconciler’s sweep when abandoned', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner, 'purge');
    await postMessage(owner, channelId, { content: 'abandoned' });
    await markDeleted(channelId);
    // Started, then lost (a restart): a checkpoint and nothing running.
    expect(await purgeChannel(channelId, { shouldStop: () => true })).toBe('paused');
    const report = await sweepUnfinishedPurges(Budget.fromRemaining(120_000, 0));
    expect(report.complete).toBe(true);
    expect(report.purged).toBeGreaterThanOrEqual(1);
    const chats = await withPg(async (client) => (await client.query(`SELECT count(*) FROM ${getConfig().postgres.schema}.chats WHERE id = $1`, [channelId])).rows[0].count);
    expect(Number(chats)).toBe(0);
    expect(await count('SELECT channel_id FROM {ks}.channel_purges WHERE channel_id = ?', [channelId])).toBe(0);
    expect(await count('SELECT channel_id FROM {ks}.channel_metadata WHERE channel_id = ?', [channelId])).toBe(0);
  });
});

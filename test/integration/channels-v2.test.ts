/**
 * Channels v2 through the local server: my channels (activity order, counts, paging), rename, members,
 * Telegram linking, delete (404 on every route of the channel at once) and the purge that follows, checked
 * table by table in the stores, including a purge interrupted midway that resumes.
 */
import { randomUUID } from 'node:crypto';
import cassandra from 'cassandra-driver';
import { describe, expect, it } from 'vitest';
import { routes, type Route } from '../../functions/routes.js';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { markChatDeleted } from '../../lib/channels/chat-store.js';
import { markChannelMetadataDeleted } from '../../lib/channels/metadata-store.js';
import { getConfig } from '../../lib/config.js';
import { bucketOf, encodeSnowflake } from '../../lib/ids/snowflake.js';
import { purgeChannel, purgesInProgress } from '../../lib/use-cases/channel-purge.js';
import { persistMessage } from '../../lib/use-cases/messages.js';
import { useLocalApi, type ApiClient, channelOf, postMessage } from '../support/api.js';
import { withCql, withPg } from '../support/stores.js';
import { deliverTo, linkedChannel, randomChatId, textMessage, update } from '../support/telegram.js';

const api = useLocalApi();
const service = () => api.user({ scope: SERVICE_SCOPE });
const table: readonly Route[] = routes;



/** Every page of a paged route, following next_cursor. */
async function allPages<T>(client: ApiClient, path: string, key: string, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response: { status: number; body: any } = await client.get(`${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    items.push(...(response.body[key] as T[]));
    expect((response.body[key] as T[]).length).toBeLessThanOrEqual(limit);
    cursor = response.body.next_cursor;
    pages += 1;
  } while (cursor && pages < 50);
  return { items, pages };
}

describe('GET /channels', () => {
  it('lists the caller’s channels, most recent activity first, every channel once across pages', async () => {
    const user = await api.user();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await channelOf(user, `c${i}`));
    // Creation order is the activity order until a message moves a channel to the top. The bump is coalesced
    // (written only when the stored activity is over a second older), so the message comes a second later.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await postMessage(user, ids[2]!, { content: 'wake up' });
    const expected = [ids[2]!, ...ids.filter((id) => id !== ids[2]).reverse()];
    const { items, pages } = await allPages<{ id: string }>(user, '/channels', 'channels', 3);
    expect(pages).toBe(3);
    expect(items.map((channel) => channel.id)).toEqual(expected);
    expect(new Set(items.map((channel) => channel.id)).size).toBe(7);
  });

  it('carries the read position, unread and mention counts of the listed user', async () => {
    const owner = await api.user();
    const reader = await api.user();
    const quiet = await channelOf(owner, 'quiet');
    const busy = await channelOf(owner, 'busy');
    for (const id of [quiet, busy]) expect((await owner.put(`/channels/${id}/members/${reader.userId}`)).status).toBe(204);
    const first = await postMessage(owner, busy, { content: 'one' });
    await postMessage(owner, busy, { content: 'two, @reader', mentions: [reader.userId] });
    await postMessage(owner, busy, { content: 'three, @reader again', mentions: [reader.userId] });

    const before = (await reader.get('/channels')).body.channels as any[];
    expect(before.map((channel) => channel.id)).toEqual([busy, quiet]);
    expect(before[0]).toMatchObject({ id: busy, name: 'busy', read_message_id: null, unread_count: 3, unread_capped: false, mention_count: 2, last_message_id: expect.any(String) });
    expect(before[1]).toMatchObject({ id: quiet, read_message_id: null, unread_count: 0, unread_capped: false, mention_count: 0, last_message_id: null });

    expect((await reader.put(`/channels/${busy}/read-position`, { message_id: first })).status).toBe(200);
    const after = (await reader.get('/channels')).body.channels as any[];
    expect(after[0]).toMatchObject({ id: busy, read_message_id: first, unread_count: 2, mention_count: 2 });
    // The owner read nothing but wrote everything: all three are unread for the owner too (Discord counts
    // one's own messages only through the read position the client sets on send).
    const owners = (await owner.get('/channels')).body.channels as any[];
    expect(owners.find((channel) => channel.id === busy)).toMatchObject({ unread_count: 3, mention_count: 0 });

    // A deleted message is no longer unread, nor its mention.
    const latest = (await owner.get(`/channels/${busy}/messages?limit=1`)).body.messages[0].id as string;
    expect((await owner.delete(`/channels/${busy}/messages/${latest}`)).status).toBe(204);
    expect(((await reader.get('/channels')).body.channels as any[])[0]).toMatchObject({ id: busy, unread_count: 1, mention_count: 1 });
  });

  it('lets a service list a named user’s channels, and no one else', async () => {
    const user = await api.user();
    const other = await api.user();
    const id = await channelOf(user);
    const operator = await service();
    const named = await operator.get(`/channels?user_id=${user.userId}`);
    expect(named.status).toBe(200);
    expect(named.body.channels.map((channel: { id: string }) => channel.id)).toEqual([id]);
    expect((await operator.get('/channels')).status).toBe(400);
    expect((await other.get(`/channels?user_id=${user.userId}`)).status).toBe(403);
    expect((await user.get(`/channels?user_id=${user.userId}`)).status).toBe(200);
    for (const query of ['limit=0', 'limit=101', 'cursor=bm90IGEgY3Vyc29y', 'user_id=nope', 'extra=1']) {
      const response = await user.get(`/channels?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    expect((await other.get('/channels')).body).toEqual({ channels: [], next_cursor: null });
  });
});

/**
 * Messages written through persistMessage (the create path's own write: row, bucket index, last message id,
 * mention rows) at past times, so that they fall in the buckets a test chooses. `at(i)` gives the i-th message's
 * time; `mentions(i)` whom it mentions. Returns the ids, oldest first.
 */
async function seedHistory(channelId: string, authorId: string, count: number, at: (i: number) => number, mentions: (i: number) => string[] = () => []): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => encodeSnowflake(at(i), 1000, i % 4096));
  for (let next = 0; next < count; next += 32) {
    await Promise.all(
      ids.slice(next, next + 32).map((id, offset) => {
        const i = next + offset;
        const mentioned = mentions(i);
        return persistMessage({ channelId, id, authorId, content: `history ${i}`, editedAt: null, replyToId: null, source: 'app', telegram: null, deleted: false, ...(mentioned.length > 0 ? { mentions: mentioned } : {}) });
      }),
    );
  }
  return ids.map(String);
}

const DAY = 86_400_000;
const listed = async (client: ApiClient, channelId: string) => ((await client.get('/channels?limit=100')).body.channels as any[]).find((channel) => channel.id === channelId);

describe('GET /channels counts beyond one bucket and up to the cap', () => {
  it('caps unread (unread_capped) and mention counts at 1000 for a reader who never read 1,100 messages over several buckets', async () => {
    const owner = await api.user();
    const reader = await api.user();
    const channelId = await channelOf(owner, 'flood');
    expect((await owner.put(`/channels/${channelId}/members/${reader.userId}`)).status).toBe(204);
    const start = Date.now() - 35 * DAY;
    const ids = await seedHistory(channelId, owner.userId, 1100, (i) => start + i * 40 * 60_000, () => [reader.userId]);
    expect(new Set(ids.map((id) => bucketOf(BigInt(id)))).size).toBeGreaterThanOrEqual(3);
    expect(await listed(reader, channelId)).toMatchObject({ read_message_id: null, unread_count: 1000, unread_capped: true, mention_count: 1000, last_message_id: ids.at(-1) });
    // 150 from the end: exact again.
    expect((await reader.put(`/channels/${channelId}/read-position`, { message_id: ids.at(-151) })).status).toBe(200);
    expect(await listed(reader, channelId)).toMatchObject({ unread_count: 150, unread_capped: false, mention_count: 150 });
  });

  it('counts exactly for a reader several buckets behind, deleted messages and their mentions left out', async () => {
    const owner = await api.user();
    const reader = await api.user();
    const channelId = await channelOf(owner, 'behind');
    expect((await owner.put(`/channels/${channelId}/members/${reader.userId}`)).status).toBe(204);
    // 60 messages, one every 12 hours: 30 days, four buckets or so; every 7th mentions the reader.
    const start = Date.now() - 31 * DAY;
    const ids = await seedHistory(channelId, owner.userId, 60, (i) => start + i * DAY / 2, (i) => (i % 7 === 0 ? [reader.userId] : []));
    const position = 4; // in the oldest bucket
    expect(bucketOf(BigInt(ids.at(-1)!)) - bucketOf(BigInt(ids[position]!))).toBeGreaterThanOrEqual(2);
    expect((await reader.put(`/channels/${channelId}/read-position`, { message_id: ids[position] })).status).toBe(200);
    // Deleted: two in the oldest unread stretch, one mentioning the reader, and the newest.
    const deleted = [5, 6, 7, 35, 59];
    for (const i of deleted) expect((await owner.delete(`/channels/${channelId}/messages/${ids[i]}`)).status).toBe(204);
    const unread = ids.map((_, i) => i).filter((i) => i > position && !deleted.includes(i));
    const mentioned = unread.filter((i) => i % 7 === 0);
    expect(await listed(reader, channelId)).toMatchObject({ read_message_id: ids[position], unread_count: unread.length, unread_capped: false, mention_count: mentioned.length });
    // GET read-position counts the same way.
    expect((await reader.get(`/channels/${channelId}/read-position`)).body).toMatchObject({ unread_count: unread.length, unread_capped: false });
  });

  it('is exact, not capped, when deleted rows make a bucket hold more rows than the cap but fewer live messages', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner, 'sparse');
    const bucketStart = (bucketOf(encodeSnowflake(Date.now(), 0, 0)) - 1) * 10 * DAY + Date.UTC(2024, 0, 1);
    const ids = await seedHistory(channelId, owner.userId, 1005, (i) => bucketStart + DAY + i * 1000);
    expect(new Set(ids.map((id) => bucketOf(BigInt(id)))).size).toBe(1);
    const doomed = ids.slice(-10).map(String);
    expect((await owner.post(`/channels/${channelId}/messages/bulk-delete`, { message_ids: doomed })).status).toBe(204);
    expect(await listed(owner, channelId)).toMatchObject({ unread_count: 995, unread_capped: false });
  });

  it('clears a mention when the read position moves past it', async () => {
    const owner = await api.user();
    const reader = await api.user();
    const channelId = await channelOf(owner, 'ping');
    expect((await owner.put(`/channels/${channelId}/members/${reader.userId}`)).status).toBe(204);
    await postMessage(owner, channelId, { content: 'hey @reader', mentions: [reader.userId] });
    const latest = await postMessage(owner, channelId, { content: 'anyone?' });
    expect(await listed(reader, channelId)).toMatchObject({ unread_count: 2, mention_count: 1 });
    expect((await reader.put(`/channels/${channelId}/read-position`, { message_id: latest })).status).toBe(200);
    expect(await listed(reader, channelId)).toMatchObject({ read_message_id: latest, unread_count: 0, unread_capped: false, mention_count: 0 });
  });
});

describe('PATCH /channels/{id}', () => {
  it('renames for the owner or a service, never for a member', async () => {
    const owner = await api.user();
    const member = await api.user();
    const id = await channelOf(owner, 'before');
    await owner.put(`/channels/${id}/members/${member.userId}`);
    const renamed = await owner.patch(`/channels/${id}`, { name: '  after  ' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id, name: 'after', telegram_chat_id: null, last_message_id: null });
    expect((await member.get(`/channels/${id}`)).body.name).toBe('after');
    expect((await member.patch(`/channels/${id}`, { name: 'mine' })).status).toBe(403);
    expect((await (await service()).patch(`/channels/${id}`, { name: 'ops' })).body.name).toBe('ops');
    expect((await owner.patch(`/channels/${id}`, {})).body.name).toBe('ops');
    expect((await owner.patch(`/channels/${randomUUID()}`, { name: 'x' })).status).toBe(404);
    for (const body of [{ name: '' }, { name: 'x'.repeat(101) }, { name: 'ok', other: 1 }]) {
      expect((await owner.patch(`/channels/${id}`, body)).status, JSON.stringify(body)).toBe(400);
    }
    // The list reads the same name.
    expect((await owner.get('/channels')).body.channels[0]).toMatchObject({ id, name: 'ops' });
  });
});

describe('GET /channels/{id}/members', () => {
  it('pages the members in user id order, each exactly once, to members and services only', async () => {
    const owner = await api.user();
    const id = await channelOf(owner);
    const added = [owner.userId];
    for (let i = 0; i < 5; i++) {
      const userId = randomUUID();
      expect((await owner.put(`/channels/${id}/members/${userId}`)).status).toBe(204);
      added.push(userId);
    }
    const { items, pages } = await allPages<{ user_id: string; role: string; joined_at: string }>(owner, `/channels/${id}/members`, 'members', 2);
    expect(pages).toBe(3);
    expect(items.map((member) => member.user_id)).toEqual([...added].sort());
    expect(items.find((member) => member.user_id === owner.userId)!.role).toBe('owner');
    expect(items.filter((member) => member.role === 'member')).toHaveLength(5);
    expect(items[0]!.joined_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    expect((await (await api.user()).get(`/channels/${id}/members`)).status).toBe(403);
    expect((await (await service()).get(`/channels/${id}/members`)).body.members).toHaveLength(6);
    expect((await owner.get(`/channels/${randomUUID()}/members`)).status).toBe(404);
    for (const query of ['limit=0', 'limit=201', 'cursor=%%%']) expect((await owner.get(`/channels/${id}/members?${query}`)).status, query).toBe(400);
  });
});

describe('POST /channels/{id}/telegram-link', () => {
  it('links for service principals only; a chat linked elsewhere is a 409', async () => {
    const owner = await api.user();
    const operator = await service();
    const id = await channelOf(owner);
    const other = await channelOf(owner);
    const chatId = randomChatId();
    expect((await owner.post(`/channels/${id}/telegram-link`, { telegram_chat_id: chatId })).status).toBe(403);
    const linked = await operator.post(`/channels/${id}/telegram-link`, { telegram_chat_id: chatId });
    expect(linked.status).toBe(200);
    expect(linked.body).toMatchObject({ id, telegram_chat_id: chatId });
    expect((await owner.get(`/channels/${id}`)).body.telegram_chat_id).toBe(chatId);
    expect((await operator.post(`/channels/${id}/telegram-link`, { telegram_chat_id: chatId })).status).toBe(200);
    const taken = await operator.post(`/channels/${other}/telegram-link`, { telegram_chat_id: chatId });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('conflict');
    expect((await operator.post(`/channels/${randomUUID()}/telegram-link`, { telegram_chat_id: chatId })).status).toBe(404);
    for (const body of [{}, { telegram_chat_id: 'x' }, { telegram_chat_id: 0 }, { telegram_chat_id: 1.5 }]) {
      expect((await operator.post(`/channels/${id}/telegram-link`, body)).status, JSON.stringify(body)).toBe(400);
    }
    // The webhook stores updates of the linked chat in the channel.
    expect((await deliverTo(api, update('message', textMessage(chatId, 1, 'bridged')))).status).toBe(200);
    expect((await owner.get(`/channels/${id}/messages`)).body.messages.map((message: { content: string }) => message.content)).toEqual(['bridged']);
  });

  it('refuses telegram_chat_id in POST /channels from anyone but a service', async () => {
    const refused = await (await api.user()).post('/channels', { name: 'x', telegram_chat_id: randomChatId() });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('forbidden_field');
    expect((await (await service()).post('/channels', { name: 'x', telegram_chat_id: randomChatId() })).status).toBe(201);
  });
});

/** A sample input that passes `schema`, from a few candidates (the route's own validation runs first). */
function sample(schema: Route['body'], candidates: unknown[]): unknown {
  if (!schema) return undefined;
  const found = candidates.find((candidate) => (schema as { safeParse(value: unknown): { success: boolean } }).safeParse(candidate).success);
  if (found === undefined) throw new Error('no sample input passes this route’s schema: add one to the candidates');
  return found;
}

const BODY_CANDIDATES = [
  {},
  { content: 'x' },
  { name: 'x' },
  { name: 'x', content: 'x' },
  { message_id: '1234567890123456789' },
  { message_ids: ['1234567890123456789', '1234567890123456790'] },
  { telegram_chat_id: 42 },
  { status: 'online' },
];
const QUERY_CANDIDATES = [{}, { q: 'x' }];

describe('DELETE /channels/{id}', () => {
  it('answers 404 at once on every route of the channel, for the owner, members and services', async () => {
    const owner = await api.user();
    const member = await api.user();
    const operator = await service();
    const id = await channelOf(owner);
    await owner.put(`/channels/${id}/members/${member.userId}`);
    const messageId = await postMessage(owner, id, { content: 'soon gone' });
    expect((await member.delete(`/channels/${id}`)).status).toBe(403);
    expect((await owner.delete(`/channels/${randomUUID()}`)).status).toBe(404);
    expect((await owner.delete(`/channels/${id}`)).status).toBe(204);

    const channelRoutes = table.filter((route) => route.path.includes('{channel_id}'));
    expect(channelRoutes.length).toBeGreaterThan(15);
    for (const route of channelRoutes) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === 'channel_id' ? id : name === 'message_id' ? messageId : name === 'emoji' ? encodeURIComponent('👍') : name === 'user_id' ? member.userId : randomUUID(),
      );
      const query = sample(route.query, QUERY_CANDIDATES) as Record<string, string> | undefined;
      const url = query && Object.keys(query).length > 0 ? `${path}?${new URLSearchParams(query).toString()}` : path;
      for (const client of [owner, member, operator]) {
        const response = await client.request(route.method, url, sample(route.body, BODY_CANDIDATES));
        expect(response.status, `${route.method} ${route.path} (${route.handler})`).toBe(404);
        expect(response.body.error.code).toBe('not_found');
      }
    }
    expect((await owner.get('/channels')).body.channels.map((channel: { id: string }) => channel.id)).not.toContain(id);
    await purgesInProgress();
  });
});

const keyspace = () => getConfig().scylla.keyspace;
const schema = () => getConfig().postgres.schema;
const count = async (query: string, params: unknown[]) =>
  withCql(async (client) => (await client.execute(query.replaceAll('{ks}', keyspace()), params, { prepare: true })).rowLength);
const pgCount = async (query: string, params: unknown[]) =>
  withPg(async (client) => Number((await client.query(query.replaceAll('{schema}', schema()), params)).rows[0].count));
const { Long } = cassandra.types;

/** A channel holding a bit of everything: messages in several buckets (Telegram history), reactions, pins, replies, mentions, read positions, search rows. */
async function populatedChannel(): Promise<{ owner: ApiClient; member: ApiClient; channelId: string; chatId: number; telegramIds: number[]; buckets: number[]; messageIds: string[] }> {
  const { owner, channelId, chatId } = await linkedChannel(api);
  const member = await api.user();
  await owner.put(`/channels/${channelId}/members/${member.userId}`);
  const telegramIds = [11, 12, 13];
  const dates = [Date.UTC(2024, 2, 1), Date.UTC(2024, 6, 1), Date.UTC(2025, 0, 1)].map((ms) => ms / 1000);
  for (const [index, telegramId] of telegramIds.entries()) {
    expect((await deliverTo(api, update('message', textMessage(chatId, telegramId, `history ${telegramId}`, { date: dates[index]! })))).status).toBe(200);
  }
  const parent = await postMessage(owner, channelId, { content: 'searchable parent words' });
  const reply = await postMessage(member, channelId, { content: 'reply to it', reply_to_id: parent, mentions: [owner.userId] });
  await owner.put(`/channels/${channelId}/messages/${parent}/reactions/${encodeURIComponent('👍')}`);
  await member.put(`/channels/${channelId}/messages/${reply}/reactions/${encodeURIComponent('🎉')}`);
  await owner.put(`/channels/${channelId}/pins/${parent}`);
  await owner.put(`/channels/${channelId}/read-position`, { message_id: parent });
  await member.put(`/channels/${channelId}/read-position`, { message_id: reply });
  const messageIds = ((await owner.get(`/channels/${channelId}/messages?limit=100`)).body.messages as { id: string }[]).map((message) => message.id);
  expect(messageIds).toHaveLength(5);
  const buckets = [...new Set(messageIds.map((id) => bucketOf(BigInt(id))))];
  expect(buckets.length).toBeGreaterThanOrEqual(3);
  return { owner, member, channelId, chatId, telegramIds, buckets, messageIds };
}

/** Every row the channel could have left, table by table; all zero once purged. */
async function leftovers(channel: Awaited<ReturnType<typeof populatedChannel>>): Promise<Record<string, number>> {
  const { channelId, chatId, telegramIds, buckets, messageIds, owner, member } = channel;
  const ids = messageIds.map((id) => Long.fromString(id));
  const users = [owner.userId, member.userId];
  const rows: Record<string, number> = {};
  rows.messages = await count('SELECT message_id FROM {ks}.messages WHERE channel_id = ? AND bucket IN ?', [channelId, buckets]);
  rows.channel_buckets = await count('SELECT bucket FROM {ks}.channel_buckets WHERE channel_id = ?', [channelId]);
  rows.message_reactions = await count('SELECT emoji FROM {ks}.message_reactions WHERE channel_id = ? AND message_id IN ?', [channelId, ids]);
  rows.message_reaction_counts = await count('SELECT emoji FROM {ks}.message_reaction_counts WHERE channel_id = ? AND message_id IN ?', [channelId, ids]);
  rows.message_replies = await count('SELECT reply_id FROM {ks}.message_replies WHERE channel_id = ? AND parent_id IN ?', [channelId, ids]);
  rows.message_reply_counts = await count('SELECT message_id FROM {ks}.message_reply_counts WHERE channel_id = ? AND bucket IN ?', [channelId, buckets]);
  rows.pinned_messages = await count('SELECT message_id FROM {ks}.pinned_messages WHERE channel_id = ?', [channelId]);
  rows.message_read_positions = await count('SELECT message_id FROM {ks}.message_read_positions WHERE channel_id = ? AND user_id IN ?', [channelId, users]);
  rows.message_mentions = await count('SELECT message_id FROM {ks}.message_mentions WHERE channel_id = ? AND user_id IN ?', [channelId, users]);
  rows.telegram_message_mapping = await count('SELECT message_id FROM {ks}.telegram_message_mapping WHERE telegram_message_id IN ? AND telegram_chat_id = ?', [
    telegramIds.map((id) => Long.fromNumber(id)),
    Long.fromNumber(chatId),
  ]);
  rows.telegram_channel_index = await count('SELECT telegram_message_id FROM {ks}.telegram_channel_index WHERE channel_id = ? AND bucket = 0', [channelId]);
  for (const name of ['telegram_channel_index_buckets', 'telegram_channel_messages', 'telegram_ingest_counts', 'telegram_reconcile_state', 'telegram_sync_state', 'channel_metadata', 'channel_members', 'channel_purges']) {
    rows[name] = await count(`SELECT channel_id FROM {ks}.${name} WHERE channel_id = ?`, [channelId]);
  }
  rows.message_search = await pgCount('SELECT count(*) FROM {schema}.message_search WHERE chat_id = $1', [channelId]);
  rows.chats = await pgCount('SELECT count(*) FROM {schema}.chats WHERE id = $1', [channelId]);
  rows.participants = await pgCount('SELECT count(*) FROM {schema}.participants WHERE chat_id = $1', [channelId]);
  return rows;
}
const nothingLeft = (rows: Record<string, number>) => Object.fromEntries(Object.keys(rows).map((name) => [name, 0]));

describe('the purge of a deleted channel', () => {
  it('leaves no row of the channel in any table', async () => {
    const channel = await populatedChannel();
    // Unread messages over several buckets (Telegram history) are counted by the bucket walk.
    const late = await api.user();
    await channel.owner.put(`/channels/${channel.channelId}/members/${late.userId}`);
    expect(((await late.get('/channels')).body.channels as any[])[0]).toMatchObject({ id: channel.channelId, unread_count: 5, read_message_id: null });
    const before = await leftovers(channel);
    for (const name of ['messages', 'channel_buckets', 'message_reactions', 'message_reaction_counts', 'message_replies', 'pinned_messages', 'message_read_positions', 'message_mentions', 'telegram_message_mapping', 'telegram_channel_index', 'telegram_channel_index_buckets', 'message_search', 'chats', 'participants']) {
      expect(before[name], name).toBeGreaterThan(0);
    }
    expect((await channel.owner.delete(`/channels/${channel.channelId}`)).status).toBe(204);
    await purgesInProgress();
    const after = await leftovers(channel);
    expect(after).toEqual(nothingLeft(after));
    // The chat is free again: a service may link it to another channel.
    const other = await channelOf(channel.owner);
    expect((await (await service()).post(`/channels/${other}/telegram-link`, { telegram_chat_id: channel.chatId })).status).toBe(200);
  });

  it('resumes from its checkpoint when interrupted midway, and refuses a channel not marked deleted', async () => {
    const channel = await populatedChannel();
    expect(await purgeChannel(channel.channelId)).toBe('not-deleted');
    expect((await leftovers(channel)).messages).toBe(5);

    // Marked as DELETE marks it, then purged by hand so that it can be stopped after two buckets.
    expect(await markChatDeleted(channel.channelId)).toEqual({ releasedTelegramChatId: channel.chatId });
    await markChannelMetadataDeleted(channel.channelId, new Date());
    expect((await channel.owner.get(`/channels/${channel.channelId}`)).status).toBe(404);
    let asked = 0;
    expect(await purgeChannel(channel.channelId, { shouldStop: () => ++asked > 3 })).toBe('paused');
    const midway = await leftovers(channel);
    expect(midway.channel_purges).toBe(1);
    expect(midway.messages).toBeGreaterThan(0); // the oldest bucket is still there
    expect(midway.messages).toBeLessThan(5);
    expect(midway.channel_buckets).toBe(channel.buckets.length);
    const checkpoint = await withCql(async (client) => (await client.execute(`SELECT step, cursor FROM ${keyspace()}.channel_purges WHERE channel_id = ?`, [channel.channelId], { prepare: true })).first());
    expect(checkpoint.get('step')).toBe('messages');
    expect(channel.buckets.map(String)).toContain(checkpoint.get('cursor'));

    expect(await purgeChannel(channel.channelId)).toBe('purged');
    const after = await leftovers(channel);
    expect(after).toEqual(nothingLeft(after));
    // Running it again (a redelivered queue message) finds nothing to do.
    expect(await purgeChannel(channel.channelId)).toBe('purged');
  });
});

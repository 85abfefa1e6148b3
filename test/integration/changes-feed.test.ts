/**
 * The changes feed through the local server: every change type with its fields, paging, the 400/403/404/410
 * answers, and idempotent repeats recording nothing. The never-skip property under clock skew has its own file
 * (changes-feed-property.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { changeDay, decodeCursor, encodeCursor, EVERYONE } from '../../lib/changes/model.js';
import { changesInPartition } from '../../lib/changes/store.js';
import { getConfig } from '../../lib/config.js';
import { encodeSnowflake, firstSnowflakeAt } from '../../lib/ids/snowflake.js';
import { channelOf, postMessage, useLocalApi, type ApiClient } from '../support/api.js';
import { deliverTo, linkedChannel, textMessage, update } from '../support/telegram.js';

const api = useLocalApi();

interface Change {
  cursor: string;
  type: string;
  at: string;
  channel_id: string;
  [field: string]: unknown;
}

const settle = () => getConfig().changes.clockSkewMs + getConfig().changes.writeDeadlineMs;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The feed's head: where a client starts following. The head stands the settle window behind now, so a client
 * starting there sees again the changes of the last moments before it (applying them is harmless: they are
 * states, see the route's description); here the setup's own changes are let settle first, so each test sees
 * exactly the changes it makes.
 */
async function head(client: ApiClient, channelId: string): Promise<string> {
  await sleep(settle() + 50);
  const response = await client.get(`/channels/${channelId}/changes`);
  expect(response.status).toBe(200);
  expect(response.body).toMatchObject({ changes: [], has_more: false });
  return response.body.next_cursor as string;
}

/**
 * Every change after `cursor` once the writes so far have settled: waits out the settle window, then follows
 * `next_cursor` page by page until a page says nothing more is ready.
 */
async function follow(client: ApiClient, channelId: string, cursor: string, limit = 100): Promise<{ changes: Change[]; cursor: string; pages: number }> {
  await sleep(settle() + 50);
  const changes: Change[] = [];
  let pages = 0;
  for (;;) {
    const response = await client.get(`/channels/${channelId}/changes?after=${encodeURIComponent(cursor)}&limit=${limit}`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    pages += 1;
    changes.push(...(response.body.changes as Change[]));
    expect(response.body.next_cursor).not.toBe('');
    cursor = response.body.next_cursor as string;
    if (!response.body.has_more) return { changes, cursor, pages };
  }
}

const types = (changes: Change[]) => changes.map((change) => change.type);

describe.concurrent('changes feed', () => {
  it('starts at the head: no changes, a cursor, nothing more', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner);
    const cursor = await head(owner, channelId);
    expect(cursor).toMatch(/^c1\.[0-9a-z]+$/);
    const { changes } = await follow(owner, channelId, cursor);
    expect(changes).toEqual([]);
  });

  it('records message create, edit, delete and bulk delete with their fields, oldest first', async () => {
    const owner = await api.user();
    const member = await api.user();
    const channelId = await channelOf(owner);
    await owner.put(`/channels/${channelId}/members/${member.userId}`);
    const start = await head(member, channelId);

    const created = await owner.post(`/channels/${channelId}/messages`, { content: 'hello', mentions: [member.userId] });
    const reply = await member.post(`/channels/${channelId}/messages`, { content: 'hi back', reply_to_id: created.body.id });
    const edited = await owner.patch(`/channels/${channelId}/messages/${created.body.id}`, { content: 'hello, edited' });
    expect(edited.status).toBe(200);
    expect((await member.delete(`/channels/${channelId}/messages/${reply.body.id}`)).status).toBe(204);
    const a = await postMessage(owner, channelId, { content: 'a' });
    const b = await postMessage(owner, channelId, { content: 'b' });
    expect((await owner.post(`/channels/${channelId}/messages/bulk-delete`, { message_ids: [a, b, a] })).status).toBe(204);

    const { changes } = await follow(member, channelId, start);
    expect(types(changes)).toEqual([
      'message.created',
      'message.created',
      'message.updated',
      'message.deleted',
      'message.created',
      'message.created',
      'message.deleted',
      'message.deleted',
    ]);
    for (const change of changes) {
      expect(change.channel_id).toBe(channelId);
      expect(Date.parse(change.at)).toBeGreaterThan(Date.now() - 60_000);
    }
    // A create and an edit carry the message as GET returns it.
    expect(changes[0]!.message).toEqual(created.body);
    expect(changes[1]!.message).toEqual(reply.body);
    expect(changes[2]!.message).toEqual(edited.body);
    expect(changes[3]).toMatchObject({ message_id: reply.body.id });
    expect(new Set([changes[6]!.message_id, changes[7]!.message_id])).toEqual(new Set([a, b]));
    // Cursors strictly increase (they are the feed's order).
    const positions = changes.map((change) => change.cursor);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it('records reactions with who and the new count, pins, and repeats record nothing', async () => {
    const owner = await api.user();
    const member = await api.user();
    const channelId = await channelOf(owner);
    await owner.put(`/channels/${channelId}/members/${member.userId}`);
    const messageId = await postMessage(owner, channelId, { content: 'react to me' });
    const start = await head(owner, channelId);

    const thumbs = encodeURIComponent('👍');
    await owner.put(`/channels/${channelId}/messages/${messageId}/reactions/${thumbs}`);
    await owner.put(`/channels/${channelId}/messages/${messageId}/reactions/${thumbs}`);
    await member.put(`/channels/${channelId}/messages/${messageId}/reactions/${thumbs}`);
    await owner.delete(`/channels/${channelId}/messages/${messageId}/reactions/${thumbs}`);
    await owner.delete(`/channels/${channelId}/messages/${messageId}/reactions/${thumbs}`);
    expect((await owner.put(`/channels/${channelId}/pins/${messageId}`)).status).toBe(204);
    expect((await owner.put(`/channels/${channelId}/pins/${messageId}`)).status).toBe(204);
    expect((await owner.delete(`/channels/${channelId}/pins/${messageId}`)).status).toBe(204);
    expect((await owner.delete(`/channels/${channelId}/pins/${messageId}`)).status).toBe(204);

    const { changes } = await follow(owner, channelId, start);
    const fields = changes.map(({ cursor: _cursor, at: _at, channel_id: _channel, ...rest }) => rest);
    expect(fields).toEqual([
      { type: 'reaction.added', message_id: messageId, user_id: owner.userId, emoji: '👍', count: 1 },
      { type: 'reaction.added', message_id: messageId, user_id: member.userId, emoji: '👍', count: 2 },
      { type: 'reaction.removed', message_id: messageId, user_id: owner.userId, emoji: '👍', count: 1 },
      { type: 'pin.added', message_id: messageId },
      { type: 'pin.removed', message_id: messageId },
    ]);
  });

  it('records channel and member changes; a rename to the same name and repeated member writes record nothing', async () => {
    const owner = await api.user();
    const member = await api.user();
    const channelId = await channelOf(owner, 'before');
    const start = await head(owner, channelId);

    expect((await owner.put(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    expect((await owner.put(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    const renamed = await owner.patch(`/channels/${channelId}`, { name: 'after' });
    expect(renamed.status).toBe(200);
    expect((await owner.patch(`/channels/${channelId}`, { name: 'after' })).status).toBe(200);
    expect((await owner.patch(`/channels/${channelId}`, {})).status).toBe(200);
    expect((await owner.delete(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    expect((await owner.delete(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);

    const { changes } = await follow(owner, channelId, start);
    expect(changes.map(({ cursor: _cursor, at: _at, channel_id: _channel, ...rest }) => rest)).toEqual([
      { type: 'member.added', user_id: member.userId },
      { type: 'channel.updated', channel: renamed.body },
      { type: 'member.removed', user_id: member.userId },
    ]);
    // A removed member no longer reads the feed.
    expect((await member.get(`/channels/${channelId}/changes`)).status).toBe(403);
  });

  it('shows a read position change only to the user who moved it, and a repeat or an older position records nothing', async () => {
    const owner = await api.user();
    const member = await api.user();
    const channelId = await channelOf(owner);
    await owner.put(`/channels/${channelId}/members/${member.userId}`);
    const first = await postMessage(owner, channelId, { content: 'one' });
    const second = await postMessage(owner, channelId, { content: 'two' });
    const start = await head(member, channelId);

    await member.put(`/channels/${channelId}/read-position`, { message_id: second });
    await member.put(`/channels/${channelId}/read-position`, { message_id: second });
    await member.put(`/channels/${channelId}/read-position`, { message_id: first });
    await owner.put(`/channels/${channelId}/read-position`, { message_id: first });

    const mine = await follow(member, channelId, start);
    expect(mine.changes.map(({ type, message_id }) => ({ type, message_id }))).toEqual([{ type: 'read_position.updated', message_id: second }]);
    const theirs = await follow(owner, channelId, start);
    expect(theirs.changes.map(({ type, message_id }) => ({ type, message_id }))).toEqual([{ type: 'read_position.updated', message_id: first }]);
  });

  it('records nothing for a repeated nonce', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner);
    const start = await head(owner, channelId);
    const first = await owner.post(`/channels/${channelId}/messages`, { content: 'once', nonce: 'n-1' });
    const again = await owner.post(`/channels/${channelId}/messages`, { content: 'once', nonce: 'n-1' });
    expect([first.status, again.status]).toEqual([201, 200]);
    const { changes } = await follow(owner, channelId, start);
    expect(changes.map((change) => [change.type, (change.message as { id: string }).id])).toEqual([['message.created', first.body.id]]);
  });

  it('records Telegram ingestion and edits, once however often Telegram redelivers', async () => {
    const { owner, channelId, chatId } = await linkedChannel(api);
    const start = await head(owner, channelId);
    const original = textMessage(chatId, 31, 'from Telegram');
    const delivery = update('message', original);
    expect((await deliverTo(api, delivery)).body.status).toBe('stored');
    expect((await deliverTo(api, delivery)).body.status).toBe('duplicate');
    const edit = update('edited_message', { ...original, text: 'from Telegram, edited', edit_date: original.date + 60 });
    expect((await deliverTo(api, edit)).body.status).toBe('edited');
    expect((await deliverTo(api, edit)).body.status).toBe('edited');

    const { changes } = await follow(owner, channelId, start);
    expect(types(changes)).toEqual(['message.created', 'message.updated']);
    const stored = await owner.get(`/telegram/chats/${chatId}/messages/31`);
    expect(changes[0]!.message).toMatchObject({ id: stored.body.id, content: 'from Telegram', source: 'telegram' });
    expect(changes[1]!.message).toEqual(stored.body);
  });

  it('pages with small limits: every change once, in order, has_more until the last page', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner);
    const start = await head(owner, channelId);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await postMessage(owner, channelId, { content: `m${i}` }));

    const { changes, pages, cursor } = await follow(owner, channelId, start, 2);
    expect(changes.map((change) => (change.message as { id: string }).id)).toEqual(ids);
    expect(pages).toBe(4);
    // A full page ends at its last change; following on from a change's own cursor gives what came after it.
    const fromThird = await owner.get(`/channels/${channelId}/changes?after=${encodeURIComponent(changes[2]!.cursor)}&limit=500`);
    expect(fromThird.body.changes.map((change: Change) => change.cursor)).toEqual(changes.slice(3).map((change) => change.cursor));
    // Caught up: the next page is empty, and its cursor (the head, which moves with time) is not behind.
    const caughtUp = await owner.get(`/channels/${channelId}/changes?after=${encodeURIComponent(cursor)}`);
    expect(caughtUp.body).toMatchObject({ changes: [], has_more: false });
    expect(decodeCursor(caughtUp.body.next_cursor as string)! >= decodeCursor(cursor)!).toBe(true);
  });

  it('reaches changes of earlier days', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner);
    // A cursor three days back walks four day partitions (nothing is in the first three).
    const threeDaysAgo = encodeCursor(firstSnowflakeAt(Date.now() - 3 * 86_400_000));
    const id = await postMessage(owner, channelId, { content: 'today' });
    const { changes } = await follow(owner, channelId, threeDaysAgo);
    expect(changes.map((change) => (change.message as { id: string }).id)).toEqual([id]);
  });

  it('answers 400 for a bad cursor or limit, 404 for an unknown channel, 403 to a stranger, 410 for an expired cursor', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner);
    for (const query of ['after=abc', 'after=c1.', 'after=c1.zzzzzzzzzzzzzz', `after=${encodeURIComponent(String(encodeSnowflake(Date.now(), 1, 1)))}`, 'limit=0', 'limit=501', 'limit=x', 'bogus=1']) {
      const response = await owner.get(`/channels/${channelId}/changes?${query}`);
      expect(response.status, query).toBe(400);
    }
    const foreign = await owner.get(`/channels/${channelId}/changes?after=c1.${'z'.repeat(12)}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('invalid_cursor');
    expect((await owner.get('/channels/00000000-0000-4000-8000-000000000000/changes')).status).toBe(404);
    expect((await (await api.user()).get(`/channels/${channelId}/changes`)).status).toBe(403);
    const expired = await owner.get(`/channels/${channelId}/changes?after=${encodeCursor(firstSnowflakeAt(Date.now() - 31 * 86_400_000))}`);
    expect(expired.status).toBe(410);
    expect(expired.body.error.code).toBe('cursor_expired');
    const service = await api.user({ scope: SERVICE_SCOPE });
    expect((await service.get(`/channels/${channelId}/changes`)).status).toBe(200);
  });

  it('records a channel delete (the feed itself answers 404 from then on)', async () => {
    const owner = await api.user();
    const channelId = await channelOf(owner);
    const start = await head(owner, channelId);
    const from = BigInt(0);
    expect((await owner.delete(`/channels/${channelId}`)).status).toBe(204);
    expect((await owner.get(`/channels/${channelId}/changes?after=${encodeURIComponent(start)}`)).status).toBe(404);
    const now = firstSnowflakeAt(Date.now() + 1000);
    const rows = await changesInPartition(channelId, changeDay(now), EVERYONE, from, now, 10);
    expect(rows.map((row) => row.type)).toEqual(['channel.deleted']);
  });
});

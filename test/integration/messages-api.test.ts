import { describe, expect, it } from 'vitest';
import { SERVICE_SCOPE } from '../../lib/auth/principal.js';
import { bucketOf, encodeSnowflake } from '../../lib/ids/snowflake.js';
import { insertMessage, softDeleteMessage } from '../../lib/messages/store.js';
import { queryCounter } from '../../lib/scylla/execute.js';
import { useLocalApi, type ApiClient } from '../support/api.js';

const api = useLocalApi();
const DAY = 24 * 60 * 60 * 1000;

async function channelWithOwner(): Promise<{ owner: ApiClient; channelId: string }> {
  const owner = await api.user();
  const created = await owner.post('/channels', { name: 'messages' });
  expect(created.status).toBe(201);
  return { owner, channelId: created.body.id };
}

/** Writes messages straight to the store at chosen past times (history the API cannot mint). */
async function seedHistory(channelId: string, authorId: string, times: number[]): Promise<string[]> {
  const ids: bigint[] = times.map((time, index) => encodeSnowflake(time, 1000, index % 4096));
  for (const [index, id] of ids.entries()) {
    await insertMessage({
      channelId,
      id,
      authorId,
      content: `history ${index}`,
      editedAt: null,
      replyToId: null,
      source: 'app',
      telegram: null,
      deleted: false,
    });
  }
  return ids.sort((a, b) => (a < b ? 1 : -1)).map(String);
}

/** Pages through the whole timeline in one direction, recording the Scylla statements each page cost. */
async function pageThrough(client: ApiClient, channelId: string, direction: 'before' | 'after', start: string | undefined, limit: number) {
  const seen: string[] = [];
  const queriesPerPage: number[] = [];
  /** Buckets each page's messages lie in: the reply counts cost one single-partition read per bucket. */
  const bucketsPerPage: number[] = [];
  let anchor = start;
  for (let page = 0; page < 200; page++) {
    const query = anchor ? `?limit=${limit}&${direction}=${anchor}` : `?limit=${limit}`;
    const before = queryCounter.count;
    const response = await client.get(`/channels/${channelId}/messages${query}`);
    queriesPerPage.push(queryCounter.count - before);
    expect(response.status).toBe(200);
    const ids: string[] = response.body.messages.map((m: { id: string }) => m.id);
    bucketsPerPage.push(new Set(ids.map((id) => bucketOf(BigInt(id)))).size);
    if (ids.length === 0) break;
    seen.push(...(direction === 'before' ? ids : [...ids].reverse()));
    anchor = direction === 'before' ? ids[ids.length - 1] : ids[0];
  }
  return { seen, queriesPerPage, bucketsPerPage };
}

describe('messages through the local server', () => {
  it('creates a message and reads it back identically, by id and in the list', async () => {
    const { owner, channelId } = await channelWithOwner();
    const created = await owner.post(`/channels/${channelId}/messages`, { content: 'héllo 👋 world' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[1-9]\d+$/),
      channel_id: channelId,
      author_id: owner.userId,
      content: 'héllo 👋 world',
      created_at: expect.any(String),
      edited_at: null,
      reply_to_id: null,
      source: 'app',
      telegram: null,
      mentions: [],
      attachments: [],
      reply_count: 0,
    });
    expect(Math.abs(Date.parse(created.body.created_at) - Date.now())).toBeLessThan(60_000);
    const read = await owner.get(`/channels/${channelId}/messages/${created.body.id}`);
    expect(read.body).toEqual(created.body);
    const list = await owner.get(`/channels/${channelId}/messages`);
    expect(list.body.messages).toEqual([created.body]);
    const channel = await owner.get(`/channels/${channelId}`);
    expect(channel.body.last_message_id).toBe(created.body.id);
  });

  it('accepts 4096 code points (emoji included) and refuses 4097 or none', async () => {
    const { owner, channelId } = await channelWithOwner();
    expect((await owner.post(`/channels/${channelId}/messages`, { content: '😀'.repeat(4096) })).status).toBe(201);
    const tooLong = await owner.post(`/channels/${channelId}/messages`, { content: '😀'.repeat(4097) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(/content: must be 1 to 4096 characters/);
    expect((await owner.post(`/channels/${channelId}/messages`, { content: '' })).status).toBe(400);
    const huge = await owner.post(`/channels/${channelId}/messages`, { content: 'x'.repeat(70_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
  });

  it('replies only to messages of the same channel', async () => {
    const { owner, channelId } = await channelWithOwner();
    const parent = (await owner.post(`/channels/${channelId}/messages`, { content: 'parent' })).body;
    const reply = await owner.post(`/channels/${channelId}/messages`, { content: 'child', reply_to_id: parent.id });
    expect(reply.status).toBe(201);
    expect(reply.body.reply_to_id).toBe(parent.id);
    const dangling = await owner.post(`/channels/${channelId}/messages`, { content: 'x', reply_to_id: '12345' });
    expect(dangling.status).toBe(400);
    expect(dangling.body.error.code).toBe('unknown_reply_target');
  });

  it('turns 20 concurrent retries with one nonce into exactly one message', async () => {
    const { owner, channelId } = await channelWithOwner();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => owner.post(`/channels/${channelId}/messages`, { content: 'once', nonce: 'retry-1' })),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(19);
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
    const list = await owner.get(`/channels/${channelId}/messages`);
    expect(list.body.messages).toHaveLength(1);
    // The same nonce from another author is another message.
    const service = await api.user({ scope: SERVICE_SCOPE });
    const other = await service.post(`/channels/${channelId}/messages`, { content: 'once', nonce: 'retry-1' });
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(responses[0]!.body.id);
  });

  it('lets only a service principal set author_id', async () => {
    const { owner, channelId } = await channelWithOwner();
    const someoneElse = '5c1b9a7e-3f2d-4c8b-9a6e-0d2f4b6a8c1e';
    const spoof = await owner.post(`/channels/${channelId}/messages`, { content: 'as them', author_id: someoneElse });
    expect(spoof.status).toBe(403);
    const service = await api.user({ scope: SERVICE_SCOPE });
    const bridged = await service.post(`/channels/${channelId}/messages`, { content: 'as them', author_id: someoneElse });
    expect(bridged.status).toBe(201);
    expect(bridged.body.author_id).toBe(someoneElse);
  });

  it('edits (author only) and deletes (author, owner or service); deleted messages vanish from every read', async () => {
    const { owner, channelId } = await channelWithOwner();
    const member = await api.user();
    expect((await owner.put(`/channels/${channelId}/members/${member.userId}`)).status).toBe(204);
    const mine = (await member.post(`/channels/${channelId}/messages`, { content: 'draft' })).body;
    const keep = (await member.post(`/channels/${channelId}/messages`, { content: 'keep' })).body;

    expect((await owner.patch(`/channels/${channelId}/messages/${mine.id}`, { content: 'hijack' })).status).toBe(403);
    const edited = await member.patch(`/channels/${channelId}/messages/${mine.id}`, { content: 'final' });
    expect(edited.status).toBe(200);
    expect(edited.body.content).toBe('final');
    expect(edited.body.edited_at).toMatch(/Z$/);
    expect((await member.get(`/channels/${channelId}/messages/${mine.id}`)).body).toEqual(edited.body);

    const ownersOwn = (await owner.post(`/channels/${channelId}/messages`, { content: 'owner' })).body;
    expect((await member.delete(`/channels/${channelId}/messages/${ownersOwn.id}`)).status).toBe(403);
    expect((await owner.delete(`/channels/${channelId}/messages/${mine.id}`)).status).toBe(204);
    expect((await member.get(`/channels/${channelId}/messages/${mine.id}`)).status).toBe(404);
    expect((await member.delete(`/channels/${channelId}/messages/${mine.id}`)).status).toBe(404);
    expect((await member.patch(`/channels/${channelId}/messages/${mine.id}`, { content: 'zombie' })).status).toBe(404);

    const ids = (await member.get(`/channels/${channelId}/messages`)).body.messages.map((m: { id: string }) => m.id);
    expect(ids).toEqual([ownersOwn.id, keep.id]);
    const around = await member.get(`/channels/${channelId}/messages?around=${mine.id}&limit=10`);
    expect(around.body.messages.map((m: { id: string }) => m.id)).toEqual([ownersOwn.id, keep.id]);
  });

  it('pages through every bucket, both ways, across gaps of months and years, at a constant query cost', async () => {
    const { owner, channelId } = await channelWithOwner();
    const start = Date.UTC(2024, 0, 15);
    // Six clusters of seven messages, 95 to 400 days apart, so most buckets between them are empty.
    const gaps = [0, 95, 190, 590, 700, 1000];
    const times = gaps.flatMap((gapDays) => Array.from({ length: 7 }, (_, i) => start + gapDays * DAY + i * 60_000));
    const expected = await seedHistory(channelId, owner.userId, times);
    expect(new Set(expected.map((id) => bucketOf(BigInt(id)))).size).toBe(6);

    const backward = await pageThrough(owner, channelId, 'before', undefined, 5);
    expect(backward.seen).toEqual(expected);
    const forward = await pageThrough(owner, channelId, 'after', '1', 5);
    expect(forward.seen).toEqual([...expected].reverse());

    // One bucket-index query, the nearest bucket, then at most one parallel round of single-partition reads
    // of as many buckets as the page still wants (every indexed bucket holds a message), plus the final empty
    // page's index query: never a probe per empty bucket, never a multi-partition IN. The reply counts add
    // one read per bucket the page's messages lie in (in parallel, so one round trip).
    const buckets = [...backward.bucketsPerPage, ...forward.bucketsPerPage];
    for (const [page, queries] of [...backward.queriesPerPage, ...forward.queriesPerPage].entries()) {
      expect(queries).toBeGreaterThanOrEqual(1);
      expect(queries - buckets[page]!).toBeLessThanOrEqual(2 + 5);
      expect(buckets[page]).toBeLessThanOrEqual(2);
    }
  });

  it('pages a sparse history with deleted messages exactly, at any page size, both ways (parallel bucket reads)', async () => {
    const { owner, channelId } = await channelWithOwner();
    // A seeded pseudo-random history: 30 bursts 20 to 60 days apart, 1 to 25 messages each, about a third
    // deleted, some bursts entirely (their buckets stay in the index with nothing live).
    let seed = 20261126;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const start = Date.UTC(2024, 0, 1);
    let day = 0;
    const rows: { id: bigint; deleted: boolean }[] = [];
    for (let burst = 0; burst < 30; burst++) {
      day += 20 + Math.floor(random() * 40);
      const count = 1 + Math.floor(random() * 25);
      const allDeleted = random() < 0.1;
      for (let i = 0; i < count; i++) rows.push({ id: encodeSnowflake(start + day * DAY + i * 1000, 1001, rows.length % 4096), deleted: allDeleted || random() < 0.33 });
    }
    for (const { id, deleted } of rows) {
      await insertMessage({ channelId, id, authorId: owner.userId, content: `m ${id}`, editedAt: null, replyToId: null, source: 'app', telegram: null, deleted: false });
      if (deleted) await softDeleteMessage(channelId, id);
    }
    const live = rows.filter((row) => !row.deleted).map((row) => String(row.id)).reverse();
    for (const limit of [2, 7, 50]) {
      const backward = await pageThrough(owner, channelId, 'before', undefined, limit);
      expect(backward.seen, `before, limit ${limit}`).toEqual(live);
      const forward = await pageThrough(owner, channelId, 'after', '1', limit);
      expect(forward.seen, `after, limit ${limit}`).toEqual([...live].reverse());
    }
  }, 120_000);

  it('answers `around` with the anchor in the middle, and `after` with the messages nearest the anchor', async () => {
    const { owner, channelId } = await channelWithOwner();
    const start = Date.now() - 100 * DAY;
    const ids = await seedHistory(channelId, owner.userId, Array.from({ length: 21 }, (_, i) => start + i * 3 * DAY));
    const anchor = ids[10]!;
    const around = await owner.get(`/channels/${channelId}/messages?around=${anchor}&limit=5`);
    expect(around.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(8, 13));
    const edge = await owner.get(`/channels/${channelId}/messages?around=${ids[0]}&limit=5`);
    expect(edge.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(0, 5));
    const after = await owner.get(`/channels/${channelId}/messages?after=${ids[15]}&limit=3`);
    expect(after.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(12, 15));
    const before = await owner.get(`/channels/${channelId}/messages?before=${ids[15]}&limit=3`);
    expect(before.body.messages.map((m: { id: string }) => m.id)).toEqual(ids.slice(16, 19));
  });

  it('rejects malformed list queries and ids with 400', async () => {
    const { owner, channelId } = await channelWithOwner();
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'before=abc', 'before=0', 'after=99999999999999999999', 'before=1&after=2', 'limit=1&limit=2', 'unknown=1']) {
      const response = await owner.get(`/channels/${channelId}/messages?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    expect((await owner.get(`/channels/${channelId}/messages/abc`)).status).toBe(400);
    expect((await owner.get(`/channels/${channelId}/messages/-5`)).status).toBe(400);
  });

  it('keeps non-members out of every message route', async () => {
    const { owner, channelId } = await channelWithOwner();
    const stranger = await api.user();
    const message = (await owner.post(`/channels/${channelId}/messages`, { content: 'secret' })).body;
    expect((await stranger.get(`/channels/${channelId}/messages`)).status).toBe(403);
    expect((await stranger.get(`/channels/${channelId}/messages/${message.id}`)).status).toBe(403);
    expect((await stranger.post(`/channels/${channelId}/messages`, { content: 'hi' })).status).toBe(403);
    expect((await stranger.patch(`/channels/${channelId}/messages/${message.id}`, { content: 'x' })).status).toBe(403);
    expect((await stranger.delete(`/channels/${channelId}/messages/${message.id}`)).status).toBe(403);
  });
});

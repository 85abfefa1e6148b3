import { describe, expect, it } from 'vitest';
import { encodeSnowflake } from '../../lib/ids/snowflake.js';
import { insertMessage } from '../../lib/messages/store.js';
import { useLocalApi, type ApiClient } from '../support/api.js';

const api = useLocalApi();
const DAY = 86_400_000;

async function channel(): Promise<{ owner: ApiClient; channelId: string }> {
  const owner = await api.user();
  return { owner, channelId: (await owner.post('/channels', { name: 'pins' })).body.id };
}

async function seed(channelId: string, authorId: string, times: number[]): Promise<string[]> {
  const ids = times.map((time, index) => encodeSnowflake(time, 1001, index % 4096));
  for (let start = 0; start < ids.length; start += 100) {
    await Promise.all(
      ids.slice(start, start + 100).map((id) =>
        insertMessage({ channelId, id, authorId, content: 'seeded', editedAt: null, replyToId: null, source: 'app', telegram: null, deleted: false }),
      ),
    );
  }
  return ids.map(String);
}

describe('pins', () => {
  it('pins idempotently, lists the most recently pinned first, and drops deleted messages', async () => {
    const { owner, channelId } = await channel();
    const ids: string[] = [];
    for (const content of ['a', 'b', 'c']) ids.push((await owner.post(`/channels/${channelId}/messages`, { content })).body.id);
    for (const id of [ids[1], ids[0], ids[2]]) {
      expect((await owner.put(`/channels/${channelId}/pins/${id}`)).status).toBe(204);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await owner.put(`/channels/${channelId}/pins/${ids[1]}`)).status).toBe(204);
    const listed = await owner.get(`/channels/${channelId}/pins`);
    expect(listed.body.messages.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[0], ids[1]]);

    await owner.delete(`/channels/${channelId}/messages/${ids[0]}`);
    expect((await owner.delete(`/channels/${channelId}/pins/${ids[2]}`)).status).toBe(204);
    expect((await owner.delete(`/channels/${channelId}/pins/${ids[2]}`)).status).toBe(204);
    const after = await owner.get(`/channels/${channelId}/pins`);
    expect(after.body.messages.map((m: { id: string }) => m.id)).toEqual([ids[1]]);
    expect((await owner.put(`/channels/${channelId}/pins/${ids[0]}`)).status).toBe(404);
  });
});

describe('read positions', () => {
  it('never moves backwards, whatever order concurrent devices write in', async () => {
    const { owner, channelId } = await channel();
    const ids = await seed(channelId, owner.userId, Array.from({ length: 40 }, (_, i) => Date.now() - 40 * DAY + i * DAY));
    const shuffled = [...ids].sort(() => Math.random() - 0.5);
    const responses = await Promise.all(shuffled.map((id) => owner.put(`/channels/${channelId}/read-position`, { message_id: id })));
    for (const [index, response] of responses.entries()) {
      expect(response.status).toBe(200);
      // Each answer is the stored position: at least what that request asked for.
      expect(BigInt(response.body.message_id) >= BigInt(shuffled[index]!)).toBe(true);
    }
    const newest = ids[ids.length - 1]!;
    expect((await owner.get(`/channels/${channelId}/read-position`)).body).toEqual({ message_id: newest, unread_count: 0, unread_capped: false });
    const stale = await owner.put(`/channels/${channelId}/read-position`, { message_id: ids[0] });
    expect(stale.body).toEqual({ message_id: newest });
  });

  it('counts unread messages across buckets, skipping deleted ones', async () => {
    const { owner, channelId } = await channel();
    const ids = await seed(channelId, owner.userId, Array.from({ length: 30 }, (_, i) => Date.now() - 300 * DAY + i * 9 * DAY));
    expect((await owner.get(`/channels/${channelId}/read-position`)).body).toEqual({ message_id: null, unread_count: 30, unread_capped: false });
    await owner.put(`/channels/${channelId}/read-position`, { message_id: ids[9] });
    expect((await owner.get(`/channels/${channelId}/read-position`)).body.unread_count).toBe(20);
    await owner.delete(`/channels/${channelId}/messages/${ids[20]}`);
    expect((await owner.get(`/channels/${channelId}/read-position`)).body.unread_count).toBe(19);
  });

  it('caps the unread count at 1000', async () => {
    const { owner, channelId } = await channel();
    const start = Date.now() - 50 * DAY;
    await seed(channelId, owner.userId, Array.from({ length: 1200 }, (_, i) => start + i * 60_000 * 50));
    const position = await owner.get(`/channels/${channelId}/read-position`);
    expect(position.body).toEqual({ message_id: null, unread_count: 1000, unread_capped: true });
  });

  it('refuses a position on a message the channel does not hold', async () => {
    const { owner, channelId } = await channel();
    expect((await owner.put(`/channels/${channelId}/read-position`, { message_id: '123456789' })).status).toBe(404);
    expect((await owner.put(`/channels/${channelId}/read-position`, { message_id: 'abc' })).status).toBe(400);
  });
});

import { describe, expect, it } from 'vitest';
import { countReactionRows, reactionCounts } from '../../lib/reactions/store.js';
import { useLocalApi, type ApiClient } from '../support/api.js';

const api = useLocalApi();

async function setup(members = 0): Promise<{ owner: ApiClient; users: ApiClient[]; channelId: string; messageId: string }> {
  const owner = await api.user();
  const channelId = (await owner.post('/channels', { name: 'reactions' })).body.id;
  const users = await Promise.all(Array.from({ length: members }, () => api.user()));
  await Promise.all(users.map((user) => owner.put(`/channels/${channelId}/members/${user.userId}`)));
  const messageId = (await owner.post(`/channels/${channelId}/messages`, { content: 'react to me' })).body.id;
  return { owner, users, channelId, messageId };
}

const path = (channelId: string, messageId: string, emoji: string) =>
  `/channels/${channelId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`;

describe('reactions', () => {
  it('counts 50 concurrent adds of one reaction by one user once', async () => {
    const { owner, channelId, messageId } = await setup();
    const statuses = await Promise.all(Array.from({ length: 50 }, () => owner.put(path(channelId, messageId, '👍'))));
    expect(new Set(statuses.map((response) => response.status))).toEqual(new Set([204]));
    const read = await owner.get(`/channels/${channelId}/messages/${messageId}/reactions`);
    expect(read.body).toEqual({ counts: { '👍': 1 }, mine: ['👍'] });
    expect(Object.fromEntries(await countReactionRows(channelId, BigInt(messageId)))).toEqual({ '👍': 1 });
  });

  it('keeps counts equal to the rows while 20 users add and remove concurrently', async () => {
    const { users, channelId, messageId } = await setup(20);
    const operations = users.flatMap((user, index) => {
      const emoji = index % 2 === 0 ? '🔥' : ':party_parrot:';
      const adds = Array.from({ length: 3 }, () => user.put(path(channelId, messageId, emoji)));
      // Every third user also takes the reaction back, racing their own adds.
      const removes = index % 3 === 0 ? [user.delete(path(channelId, messageId, emoji)), user.delete(path(channelId, messageId, emoji))] : [];
      return [...adds, ...removes];
    });
    const responses = await Promise.all(operations);
    expect(responses.every((response) => response.status === 204)).toBe(true);
    const counts = Object.fromEntries(await reactionCounts(channelId, BigInt(messageId)));
    const rows = Object.fromEntries(await countReactionRows(channelId, BigInt(messageId)));
    expect(counts).toEqual(rows);
    // 13 users never remove; the 7 racing their own removals may end either way.
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(13);
    expect(total).toBeLessThanOrEqual(20);
  });

  it('is idempotent on remove and shows each caller only their own reactions', async () => {
    const { owner, users, channelId, messageId } = await setup(1);
    const [member] = users;
    await owner.put(path(channelId, messageId, '🇺🇦'));
    await member!.put(path(channelId, messageId, '👨‍👩‍👧'));
    await member!.put(path(channelId, messageId, '🇺🇦'));
    expect((await member!.delete(path(channelId, messageId, '👨‍👩‍👧'))).status).toBe(204);
    expect((await member!.delete(path(channelId, messageId, '👨‍👩‍👧'))).status).toBe(204);
    const mine = await member!.get(`/channels/${channelId}/messages/${messageId}/reactions`);
    expect(mine.body).toEqual({ counts: { '🇺🇦': 2 }, mine: ['🇺🇦'] });
    const theirs = await owner.get(`/channels/${channelId}/messages/${messageId}/reactions`);
    expect(theirs.body.mine).toEqual(['🇺🇦']);
  });

  it('accepts one emoji or a :name:, and refuses anything else with invalid_emoji', async () => {
    const { owner, channelId, messageId } = await setup();
    for (const good of ['👍', '👍🏽', '1️⃣', '🏳️‍🌈', ':thumbs_up:', `:${'a'.repeat(32)}:`]) {
      expect((await owner.put(path(channelId, messageId, good))).status, good).toBe(204);
    }
    for (const bad of ['a', '👍👍', 'thumbs', '::', `:${'a'.repeat(33)}:`, ':sp ace:', '\u0007']) {
      const response = await owner.put(path(channelId, messageId, bad));
      expect(response.status, bad).toBe(400);
      expect(response.body.error.code).toBe('invalid_emoji');
    }
  });

  it('answers 404 for reactions on a deleted message and 403 for strangers', async () => {
    const { owner, channelId, messageId } = await setup();
    const stranger = await api.user();
    expect((await stranger.put(path(channelId, messageId, '👍'))).status).toBe(403);
    await owner.delete(`/channels/${channelId}/messages/${messageId}`);
    expect((await owner.put(path(channelId, messageId, '👍'))).status).toBe(404);
    expect((await owner.get(`/channels/${channelId}/messages/${messageId}/reactions`)).status).toBe(404);
  });
});

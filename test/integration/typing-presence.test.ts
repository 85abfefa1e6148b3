import { randomUUID } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { useLocalApi } from '../support/api.js';

const api = useLocalApi();
const redis = () => new Redis({ url: getConfig().redis.url!, token: getConfig().redis.token!, enableTelemetry: false });

describe('typing and presence', () => {
  it('shows members typing for 8 seconds, read back in one MGET', async () => {
    const owner = await api.user();
    const member = await api.user();
    const channelId = (await owner.post('/channels', { name: 'typing' })).body.id;
    await owner.put(`/channels/${channelId}/members/${member.userId}`);
    expect((await owner.post(`/channels/${channelId}/typing`)).status).toBe(204);
    expect((await member.post(`/channels/${channelId}/typing`)).status).toBe(204);
    const typing = await owner.get(`/channels/${channelId}/typing`);
    expect(new Set(typing.body.user_ids)).toEqual(new Set([owner.userId, member.userId]));
    const ttl = await redis().ttl(`typing:${channelId}:${owner.userId}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(8);

    await new Promise((resolve) => setTimeout(resolve, 8_500));
    expect((await owner.get(`/channels/${channelId}/typing`)).body).toEqual({ user_ids: [] });
    expect((await (await api.user()).post(`/channels/${channelId}/typing`)).status).toBe(403);
  }, 20_000);

  it('keeps presence for 60 seconds, reports absent users as offline, and clears on offline', async () => {
    const alice = await api.user();
    const bob = await api.user();
    const nobody = randomUUID();
    expect((await alice.put('/presence', { status: 'online' })).status).toBe(204);
    expect((await bob.put('/presence', { status: 'away' })).status).toBe(204);
    const read = await alice.get(`/presence?user_ids=${alice.userId},${bob.userId},${nobody}`);
    expect(read.body).toEqual({ presence: { [alice.userId]: 'online', [bob.userId]: 'away', [nobody]: 'offline' } });
    const ttl = await redis().ttl(`presence:${alice.userId}`);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
    await alice.put('/presence', { status: 'offline' });
    expect((await bob.get(`/presence?user_ids=${alice.userId}`)).body).toEqual({ presence: { [alice.userId]: 'offline' } });
  });

  it('validates presence input', async () => {
    const alice = await api.user();
    expect((await alice.put('/presence', { status: 'busy' })).status).toBe(400);
    expect((await alice.get('/presence?user_ids=not-a-uuid')).status).toBe(400);
    const tooMany = Array.from({ length: 101 }, () => randomUUID()).join(',');
    expect((await alice.get(`/presence?user_ids=${tooMany}`)).status).toBe(400);
    expect((await alice.get('/presence')).status).toBe(400);
  });
});

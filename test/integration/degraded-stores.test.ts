/** Outages of the stores that do not hold messages: the service keeps storing and answering messages. */
import { describe, expect, it, vi } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { closePostgres } from '../../lib/postgres/pool.js';
import { closeRedis } from '../../lib/redis/client.js';
import { useLocalApi } from '../support/api.js';
import { withEnv } from '../support/env.js';

const api = useLocalApi();


/** The EMF metric values named `name` (with their route) written to stdout while `work` runs. */
async function metricsDuring(name: string, work: () => Promise<void>): Promise<{ route: string; value: number }[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.includes('"_aws"')) lines.push(...text.split('\n').filter(Boolean));
    else return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((record) => name in record)
    .flatMap((record) => [record[name]].flat().map((value) => ({ route: String(record.route), value: Number(value) })));
}

const resetRedis = async () => {
  await closeRedis();
};

describe('Redis unreachable', () => {
  it('keeps messages working, lets typing and presence fail soft, and readiness names Redis', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'no-redis' })).body.id;
    await withEnv({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' }, resetRedis, async () => {
      const started = Date.now();
      const created = await owner.post(`/channels/${channelId}/messages`, { content: 'still works' });
      expect(created.status).toBe(201);
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await owner.get(`/channels/${channelId}/messages/${created.body.id}`)).status).toBe(200);
      expect((await owner.post(`/channels/${channelId}/typing`)).status).toBe(204);
      expect((await owner.get(`/channels/${channelId}/typing`)).body).toEqual({ user_ids: [] });
      expect((await owner.put('/presence', { status: 'online' })).status).toBe(204);
      expect((await owner.get(`/presence?user_ids=${owner.userId}`)).body).toEqual({ presence: { [owner.userId]: 'offline' } });
      const ready = await api.anonymous().get('/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('5');
      expect(ready.body.status).toBe('unavailable');
      expect(ready.body.checks.redis.status).toBe('unavailable');
      expect(ready.body.checks.scylla.status).toBe('ok');
      expect(ready.body.checks.postgres.status).toBe('ok');
    });
    expect((await api.anonymous().get('/health/ready')).status).toBe(200);
  });
});

describe('PostgreSQL unreachable', () => {
  it('answers fast: readiness names PostgreSQL, channel creation is a 503 with Retry-After', async () => {
    const owner = await api.user();
    await withEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' }, closePostgres, async () => {
      const started = Date.now();
      const created = await owner.post('/channels', { name: 'nowhere' });
      expect(created.status).toBe(503);
      expect(created.body.error.code).toBe('unavailable');
      expect(created.headers.get('retry-after')).toBe('1');
      expect(Date.now() - started).toBeLessThan(2500);
      const ready = await api.anonymous().get('/health/ready');
      expect(ready.body.checks.postgres.status).toBe('unavailable');
    });
    expect(getConfig().postgres.url).not.toContain(':1/');
  });
});

describe('degraded modes are metrics', () => {
  it('a write let through while Redis is down is counted as RateLimitFailOpen for its route', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'fail-open' })).body.id;
    const counted = await metricsDuring('RateLimitFailOpen', async () => {
      await withEnv({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1', METRICS_ENABLED: 'true' }, resetRedis, async () => {
        expect((await owner.post(`/channels/${channelId}/messages`, { content: 'through' })).status).toBe(201);
      });
    });
    expect(counted).toEqual([{ route: 'create-message', value: 1 }]);
  });

  it('a message whose search row could not be written is stored, and counted as SearchIndexQueued by the indexer (not the create)', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'queued' })).body.id;
    await owner.get(`/channels/${channelId}`);
    const counted = await metricsDuring('SearchIndexQueued', async () => {
      await withEnv({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', METRICS_ENABLED: 'true' }, closePostgres, async () => {
        expect((await owner.post(`/channels/${channelId}/messages`, { content: 'queued for search' })).status).toBe(201);
      });
    });
    // The create waits for no PostgreSQL write: the indexer on the changes bus (locally the in-process sink)
    // counts it, and the reconciler's sweep applies it later (search-outbox.test.ts).
    expect(counted).toEqual([{ route: 'index-messages', value: 1 }]);
  });
});

describe('write rate limit', () => {
  it('spends no quota on malformed writes: 100 of them, then a valid write is a 201; malformed and over the limit is a 400', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'malformed' })).body.id;
    await withEnv({ RATE_LIMIT_WRITES: '3', RATE_LIMIT_WINDOW_SECONDS: '3600' }, resetRedis, async () => {
      const malformed = [{ content: '' }, { content: 'x', colour: 'red' }, '{"content":', { content: 42 }];
      const statuses = new Set<number>();
      for (let i = 0; i < 100; i++) statuses.add((await owner.post(`/channels/${channelId}/messages`, malformed[i % malformed.length])).status);
      expect([...statuses]).toEqual([400]);
      expect((await owner.post(`/channels/${channelId}/messages`, { content: 'first valid' })).status).toBe(201);
      expect((await owner.post(`/channels/${channelId}/messages`, { content: 'second' })).status).toBe(201);
      expect((await owner.post(`/channels/${channelId}/messages`, { content: 'third' })).status).toBe(201);
      expect((await owner.post(`/channels/${channelId}/messages`, { content: 'fourth' })).status).toBe(429);
      const both = await owner.post(`/channels/${channelId}/messages`, { content: '' });
      expect(both.status).toBe(400);
      expect(both.body.error.code).toBe('invalid_request');
    });
  });


  it('answers 429 with Retry-After once a user exceeds the limit, and never limits a service principal', async () => {
    const owner = await api.user();
    const channelId = (await owner.post('/channels', { name: 'limits' })).body.id;
    await withEnv({ RATE_LIMIT_WRITES: '5', RATE_LIMIT_WINDOW_SECONDS: '3600' }, resetRedis, async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await owner.post(`/channels/${channelId}/messages`, { content: `m${i}` })).status);
      expect(statuses.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
      expect(statuses.slice(5)).toEqual([429, 429, 429]);
      const limited = await owner.post(`/channels/${channelId}/messages`, { content: 'again' });
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await owner.get(`/channels/${channelId}/messages?limit=100`)).body.messages).toHaveLength(5);
      // Reads are not limited.
      expect((await owner.get(`/channels/${channelId}/messages`)).status).toBe(200);
      const service = await api.user({ scope: 'messages:service' });
      for (let i = 0; i < 8; i++) expect((await service.post(`/channels/${channelId}/messages`, { content: `s${i}` })).status).toBe(201);
    });
  });
});

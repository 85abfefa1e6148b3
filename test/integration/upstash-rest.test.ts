/** The local Upstash-compatible endpoint, exercised by the real @upstash/redis client against real Redis. */
import { randomUUID } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';

function client(token = getConfig().redis.token!) {
  return new Redis({ url: getConfig().redis.url!, token, retry: false, enableTelemetry: false });
}

describe('local Upstash REST endpoint', () => {
  it('runs single commands with base64-encoded results, including non-ASCII and binary-looking strings', async () => {
    const redis = client();
    const key = `t:${randomUUID()}`;
    expect(await redis.set(key, 'héllo 👋 "quoted"', { ex: 30 })).toBe('OK');
    expect(await redis.get(key)).toBe('héllo 👋 "quoted"');
    expect(await redis.ttl(key)).toBeGreaterThan(0);
    expect(await redis.get(`missing:${randomUUID()}`)).toBeNull();
    expect(await redis.incrby(`${key}:n`, 5)).toBe(5);
    await redis.del(key, `${key}:n`);
  });

  it('answers a pipeline in order, with an error entry for a failing command', async () => {
    const redis = client();
    const key = `t:${randomUUID()}`;
    const results = await redis.pipeline().set(key, 'v').get(key).exists(key).exec();
    expect(results).toEqual(['OK', 'v', 1]);

    const raw = await fetch(`${getConfig().redis.url}/pipeline`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${getConfig().redis.token}` },
      body: JSON.stringify([['GET', key], ['INCR', key]]),
    });
    expect(await raw.json()).toEqual([{ result: 'v' }, { error: 'ERR value is not an integer or out of range' }]);
    await redis.del(key);
  });

  it('runs multi-exec as one transaction', async () => {
    const redis = client();
    const key = `t:${randomUUID()}`;
    const results = await redis.multi().incr(key).incr(key).get(key).exec();
    expect(results).toEqual([1, 2, 2]);
    await redis.del(key);
  });

  it('rejects a wrong token with 401 and a malformed body with 400', async () => {
    await expect(client('wrong-token').get('x')).rejects.toThrow(/Unauthorized/);
    const response = await fetch(getConfig().redis.url!, {
      method: 'POST',
      headers: { Authorization: `Bearer ${getConfig().redis.token}` },
      body: '{"not": "a command"}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'ERR the body must be a JSON array holding one command' });
  });
});

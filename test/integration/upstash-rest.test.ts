/** The local Upstash-compatible endpoint, exercised by the real @upstash/redis client against real Redis. */
import { randomUUID } from 'node:crypto';
import { Redis } from '@upstash/redis';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';

function client(token = getConfig().redis.token!) {
  return new Redis({ url: getConfig().redis.url!, token, retry: false, enableTelemetry: false });
}

/** One raw request to the endpoint, without base64 (what lib/redis/rest-pipeline.ts sends). */
async function raw(path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${getConfig().redis.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${getConfig().redis.token}` },
    body: JSON.stringify(body),
    signal,
  });
  return { status: response.status, body: await response.json() };
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

  // Upstash answers RESP2 shapes, whatever the case of the command (the client library behind the endpoint used
  // to speak RESP3 and reshape replies by the command's name).
  it('answers RESP2 shapes: XREAD and XREADGROUP in either case, ZRANGE WITHSCORES, HRANDFIELD WITHVALUES', async () => {
    const stream = `t:${randomUUID()}`;
    const { body: added } = await raw('/', ['XADD', stream, '*', 'field', 'value']);
    const id = (added as { result: string }).result;
    const entries = [[stream, [[id, ['field', 'value']]]]];
    for (const name of ['XREAD', 'xread']) {
      expect(await raw('/', [name, 'COUNT', 10, 'STREAMS', stream, '0'])).toEqual({ status: 200, body: { result: entries } });
    }
    expect(await raw('/', ['XGROUP', 'CREATE', stream, 'readers', '0'])).toEqual({ status: 200, body: { result: 'OK' } });
    for (const [name, consumer] of [['XREADGROUP', 'a'], ['xreadgroup', 'b']]) {
      await raw('/', ['XGROUP', 'SETID', stream, 'readers', '0']);
      expect(await raw('/', [name, 'GROUP', 'readers', consumer, 'STREAMS', stream, '>'])).toEqual({ status: 200, body: { result: entries } });
    }

    const zset = `t:${randomUUID()}`;
    await raw('/', ['ZADD', zset, 1.5, 'one', 2, 'two']);
    for (const name of ['ZRANGE', 'zrange']) {
      expect(await raw('/', [name, zset, 0, -1, 'WITHSCORES'])).toEqual({ status: 200, body: { result: ['one', '1.5', 'two', '2'] } });
    }
    expect(await client().zrange(zset, 0, -1, { withScores: true })).toEqual(['one', 1.5, 'two', 2]);

    const hash = `t:${randomUUID()}`;
    await raw('/', ['HSET', hash, 'only', 'value']);
    for (const name of ['HRANDFIELD', 'hrandfield']) {
      expect(await raw('/', [name, hash, 1, 'WITHVALUES'])).toEqual({ status: 200, body: { result: ['only', 'value'] } });
    }
    await raw('/', ['DEL', stream, zset, hash]);
  });

  it('answers HGETALL as a flat field/value array, which the client turns into an object', async () => {
    const hash = `t:${randomUUID()}`;
    const redis = client();
    await redis.hset(hash, { name: 'héllo', count: 2 });
    expect(await raw('/', ['hgetall', hash])).toEqual({ status: 200, body: { result: ['name', 'héllo', 'count', '2'] } });
    expect(await redis.hgetall(hash)).toEqual({ name: 'héllo', count: 2 });
    expect(await redis.hgetall(`missing:${randomUUID()}`)).toBeNull();
    await redis.del(hash);
  });

  it('answers a transaction Redis discards (EXECABORT) with 400 and an error, and runs none of it', async () => {
    const key = `t:${randomUUID()}`;
    expect(await raw('/multi-exec', [['SET', key, 'v'], ['NO-SUCH-COMMAND'], ['GET', key]])).toEqual({
      status: 400,
      body: { error: 'EXECABORT Transaction discarded because of previous errors.' },
    });
    expect(await raw('/', ['EXISTS', key])).toEqual({ status: 200, body: { result: 0 } });
    // The client throws its own error for it, not a TypeError on a non-array answer.
    const transaction = client().multi().set(key, 'v');
    transaction.hset(key, {});
    await expect(transaction.exec()).rejects.toThrow(/EXECABORT/);
    // An error while the transaction runs is that command's entry; the rest ran.
    expect(await raw('/multi-exec', [['SET', key, 'v'], ['INCR', key], ['GET', key]])).toEqual({
      status: 200,
      body: [{ result: 'OK' }, { error: 'ERR value is not an integer or out of range' }, { result: 'v' }],
    });
    await raw('/', ['DEL', key]);
  });

  it("never carries one request's SELECT, MULTI or blocking command into another request", async () => {
    const key = `t:${randomUUID()}`;
    await raw('/', ['SET', key, 'in-db-0']);
    expect(await raw('/', ['SELECT', 1])).toEqual({ status: 200, body: { result: 'OK' } });
    expect(await raw('/', ['MULTI'])).toEqual({ status: 200, body: { result: 'OK' } });
    for (let attempt = 0; attempt < 5; attempt++) {
      expect(await raw('/', ['GET', key])).toEqual({ status: 200, body: { result: 'in-db-0' } });
    }
    // Within one pipeline the connection's state holds, as it would on Upstash's side of one request.
    expect(await raw('/pipeline', [['SELECT', 1], ['GET', key]])).toEqual({ status: 200, body: [{ result: 'OK' }, { result: null }] });
    expect(await raw('/', ['GET', key])).toEqual({ status: 200, body: { result: 'in-db-0' } });

    // A blocking command holds only its own request: another request answers meanwhile.
    const list = `t:${randomUUID()}`;
    const blocked = raw('/', ['BLPOP', list, 2]);
    const started = performance.now();
    expect(await raw('/', ['GET', key])).toEqual({ status: 200, body: { result: 'in-db-0' } });
    expect(performance.now() - started).toBeLessThan(1000);
    await raw('/', ['LPUSH', list, 'first']);
    expect(await blocked).toEqual({ status: 200, body: { result: [list, 'first'] } });

    // A blocking command whose caller went away does not take what is pushed afterwards.
    const abandoned = new AbortController();
    const gaveUp = raw('/', ['BLPOP', list, 5], abandoned.signal).catch(() => 'aborted');
    await new Promise((resolve) => setTimeout(resolve, 200));
    abandoned.abort();
    expect(await gaveUp).toBe('aborted');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await raw('/', ['LPUSH', list, 'second']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await raw('/', ['LRANGE', list, 0, -1])).toEqual({ status: 200, body: { result: ['second'] } });
    await raw('/', ['DEL', key, list]);
  });

  it("answers Upstash's shapes where Redis 7.0 differs: SCAN … WITHTYPE, COPY onto itself", async () => {
    const key = `t:${randomUUID()}`;
    const redis = client();
    await redis.set(key, 'v');
    let cursor = '0';
    const found: { key: string; type: string }[] = [];
    do {
      const [next, items] = await redis.scan(cursor, { match: `${key}*`, count: 1000, withType: true });
      found.push(...items);
      cursor = next;
    } while (cursor !== '0');
    expect(found).toEqual([{ key, type: 'string' }]);
    expect(await redis.copy(key, key)).toBe('NOT_COPIED');
    await redis.del(key);
  });

  it('streams SUBSCRIBE and PSUBSCRIBE messages as server-sent events', async () => {
    const channel = `t:${randomUUID()}`;
    const redis = client();
    const subscriber = redis.subscribe<{ n: number }>([channel]);
    const patterned = redis.psubscribe<{ n: number }>([`${channel}*`]);
    const messages: unknown[] = [];
    const patternMessages: unknown[] = [];
    subscriber.on('message', (event) => messages.push(event));
    patterned.on('pmessage', (event) => patternMessages.push(event));
    const deadline = Date.now() + 3000;
    while ((await redis.publish(channel, { n: 1 })) < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await subscriber.unsubscribe();
    await patterned.unsubscribe();
    expect(messages.at(-1)).toEqual({ channel, message: { n: 1 } });
    expect(patternMessages.at(-1)).toEqual({ pattern: `${channel}*`, channel, message: { n: 1 } });
  });
});

/**
 * The light Upstash REST call the rate limits use (lib/redis/rest-pipeline.ts), against the real local
 * endpoint and Redis, and through a TCP proxy in front of it that resets a kept-alive connection when the
 * next request arrives on it (what a Lambda thawed after the server closed its idle socket meets), or never
 * answers (a hung endpoint).
 */
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { RateLimitedError } from '../../lib/errors.js';
import { WriteRateLimit } from '../../lib/rate-limit.js';
import { redisPipeline, RedisPipelineError } from '../../lib/redis/rest-pipeline.js';
import { withEnv } from '../support/env.js';

const noReset = async () => undefined;

type ProxyMode = 'forward' | 'reset-reused' | 'reset-all' | 'silent';

/** A TCP proxy to the local Upstash endpoint whose behaviour per request the test switches. */
async function startProxy(target: URL) {
  const state = { mode: 'forward' as ProxyMode, connections: 0, resets: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    state.connections += 1;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    let requests = 0;
    let upstream: Socket | undefined;
    client.on('error', () => undefined);
    client.on('data', (chunk: Buffer) => {
      if (chunk.subarray(0, 5).toString() === 'POST ') requests += 1;
      const reset = state.mode === 'reset-all' || (state.mode === 'reset-reused' && requests > 1);
      if (reset) {
        state.resets += 1;
        upstream?.destroy();
        client.resetAndDestroy();
        return;
      }
      if (state.mode === 'silent') return;
      if (!upstream) {
        upstream = connect(Number(target.port), target.hostname);
        upstream.on('error', () => client.destroy());
        upstream.pipe(client);
        upstream.on('close', () => client.destroy());
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const proxies: Awaited<ReturnType<typeof startProxy>>[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

async function proxy() {
  const started = await startProxy(new URL(getConfig().redis.url!));
  proxies.push(started);
  return started;
}

const countCommands = (key: string, by = 1) => [
  ['INCRBY', key, by],
  ['EXPIRE', key, 60, 'NX'],
];

describe('Redis REST pipeline', () => {
  it('runs INCRBY and EXPIRE NX in one call: the new total, and the expiry set once', async () => {
    const key = `t:rest:${randomUUID()}`;
    expect(await redisPipeline(countCommands(key, 5))).toEqual([5, 1]);
    expect(await redisPipeline(countCommands(key, 2))).toEqual([7, 0]);
    const [ttl] = await redisPipeline([['TTL', key]]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('throws when a command of the pipeline fails, and on a refused token', async () => {
    const key = `t:rest:${randomUUID()}`;
    await redisPipeline([['SET', key, 'not a number', 'EX', 60]]);
    await expect(redisPipeline(countCommands(key))).rejects.toThrow(/Command 1 \[ INCRBY \] failed: ERR value is not an integer/);
    await withEnv({ UPSTASH_REDIS_REST_TOKEN: 'wrong-token' }, noReset, async () => {
      await expect(redisPipeline([['PING']])).rejects.toBeInstanceOf(RedisPipelineError);
      await expect(redisPipeline([['PING']])).rejects.toThrow(/answered 401/);
    });
  });

  it('sends a request again, on a new connection, when its kept-alive connection is reset before any answer', async () => {
    const endpoint = await proxy();
    const key = `t:rest:${randomUUID()}`;
    await withEnv({ UPSTASH_REDIS_REST_URL: endpoint.url }, noReset, async () => {
      expect(await redisPipeline(countCommands(key))).toEqual([1, 1]);
      expect(endpoint.state.connections).toBe(1);
      // Between invocations: the connection goes back to fetch's pool, idle (it is not, in the tick the
      // answer is read).
      await sleep(50);
      endpoint.state.mode = 'reset-reused';
      expect(await redisPipeline(countCommands(key))).toEqual([2, 0]);
      expect(endpoint.state.resets).toBe(1);
      expect(endpoint.state.connections).toBe(2);
    });
  });

  it('sends it once more only: a second reset fails the call, and the write limit lets the write through', async () => {
    const endpoint = await proxy();
    endpoint.state.mode = 'reset-all';
    await withEnv({ UPSTASH_REDIS_REST_URL: endpoint.url }, noReset, async () => {
      await expect(redisPipeline([['PING']])).rejects.toThrow();
      expect(endpoint.state.resets).toBe(2);
      const limit = new WriteRateLimit(undefined, () => ({ writes: 1, windowSeconds: 3600 }));
      const user = { userId: randomUUID(), isService: false };
      // Over the limit on the second write, were Redis reachable: both go through, uncounted.
      await limit.enforce(user);
      await limit.enforce(user);
    });
  });

  it('gives up when REDIS_TIMEOUT_MS passes without an answer, and the write goes through', async () => {
    const endpoint = await proxy();
    endpoint.state.mode = 'silent';
    await withEnv({ UPSTASH_REDIS_REST_URL: endpoint.url, REDIS_TIMEOUT_MS: '300' }, noReset, async () => {
      const started = Date.now();
      await expect(redisPipeline([['PING']])).rejects.toThrow(/timeout|aborted/i);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(3000);
      const limit = new WriteRateLimit(undefined, () => ({ writes: 1, windowSeconds: 3600 }));
      await limit.enforce({ userId: randomUUID(), isService: false });
    });
  });

  it('fails on a refused connection after one retry', async () => {
    await withEnv({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' }, noReset, async () => {
      await expect(redisPipeline([['PING']])).rejects.toThrow(/fetch failed/);
    });
  });
});

describe('write rate limit through the REST pipeline', () => {
  it('refuses the write past the quota with Retry-After, shared by every container, then without asking Redis', async () => {
    const settings = () => ({ writes: 2, windowSeconds: 3600 });
    const user = { userId: randomUUID(), isService: false };
    await new WriteRateLimit(undefined, settings).enforce(user);
    const container = new WriteRateLimit(undefined, settings);
    await container.enforce(user);
    const refused = await container.enforce(user).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(container.knownOver(user)).toBeInstanceOf(RateLimitedError);
    await container.enforce({ userId: randomUUID(), isService: true });
  });
});

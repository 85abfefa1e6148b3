/**
 * The per-user read quota against the real Redis (through the local Upstash endpoint): counted in the
 * container, told to Redis at most once a second per user below 80 % of the limit and on every read above,
 * shared by every container through the window's key.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../lib/errors.js';
import { READ_SYNC_MS, ReadRateLimit } from '../../lib/rate-limit.js';
import { getRedis } from '../../lib/redis/client.js';

const WINDOW_SECONDS = 3600;

function container(reads: number, clock: { now: number }): ReadRateLimit {
  return new ReadRateLimit(undefined, () => ({ reads, windowSeconds: WINDOW_SECONDS }), () => clock.now);
}

async function told(userId: string, clock: { now: number }): Promise<number> {
  const window = Math.floor(clock.now / (WINDOW_SECONDS * 1000));
  const value = await (await getRedis()).get<number | string>(`ratelimit:reads:${userId}:${window}`);
  return Number(value ?? 0);
}

describe('per-user read quota', () => {
  it('tells Redis on the first read, then at most once a second, carrying every read in between', async () => {
    const clock = { now: Math.floor(Date.now() / 3_600_000) * 3_600_000 + 1000 };
    const user = { userId: randomUUID(), isService: false };
    const limit = container(1000, clock);
    await limit.count(user);
    expect(await told(user.userId, clock)).toBe(1);
    for (let i = 0; i < 9; i++) await limit.count(user);
    // Nine reads inside the second: none reached Redis.
    expect(await told(user.userId, clock)).toBe(1);
    clock.now += READ_SYNC_MS;
    await limit.count(user);
    expect(await told(user.userId, clock)).toBe(11);
  });

  it('counts every read in Redis from 80 % of the limit and refuses past it, in every container sharing the window', async () => {
    const clock = { now: Math.floor(Date.now() / 3_600_000) * 3_600_000 + 2000 };
    const user = { userId: randomUUID(), isService: false };
    const first = container(10, clock);
    const second = container(10, clock);
    // Eight reads in the first container: the first synced, seven wait in it (below 80 %).
    for (let i = 0; i < 7; i++) await first.count(user);
    expect(await told(user.userId, clock)).toBe(1);
    // The eighth and ninth reach 80 %: each is told at once.
    await first.count(user);
    expect(await told(user.userId, clock)).toBe(8);
    await first.count(user);
    expect(await told(user.userId, clock)).toBe(9);
    // The second container's first read syncs and sees the shared total: 10, still allowed.
    await second.count(user);
    expect(await told(user.userId, clock)).toBe(10);
    // The eleventh read, in either container, is over.
    await expect(second.count(user)).rejects.toBeInstanceOf(RateLimitedError);
    expect(second.knownOver(user)).toBeInstanceOf(RateLimitedError);
    await expect(first.count(user)).rejects.toBeInstanceOf(RateLimitedError);
    // Services are never counted.
    const service = { userId: randomUUID(), isService: true };
    for (let i = 0; i < 20; i++) await first.count(service);
    expect(await told(service.userId, clock)).toBe(0);
  });
});

/**
 * Per-user write rate limiting: a fixed window counted in Redis with one pipelined round trip
 * (INCR + EXPIRE NX). Service principals are exempt. A user found over the limit is remembered in the warm
 * container until the window ends, sparing Redis a call per rejected request. If Redis cannot answer in time
 * the write is let through: an outage of the ephemeral store must not stop messages.
 *
 * (@upstash/ratelimit was tried first: its Lua scripts carry a `flags=allow-key-locking` shebang that
 * Redis 7.0 refuses, so it cannot run against a self-hosted Redis.)
 */
import type { Principal } from './auth/principal.js';
import { getConfig } from './config.js';
import { RateLimitedError } from './errors.js';
import { log } from './log.js';
import { getRedis } from './redis/client.js';

const blockedUntil = new Map<string, number>();

export async function enforceWriteRate(principal: Principal): Promise<void> {
  if (principal.isService) return;
  const { writes, windowSeconds } = getConfig().rateLimit;
  const now = Date.now();
  const windowMs = windowSeconds * 1000;
  const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
  const retryAfter = () => Math.max(1, Math.ceil((windowEnd - Date.now()) / 1000));
  if ((blockedUntil.get(principal.userId) ?? 0) > now) throw new RateLimitedError(retryAfter());

  const key = `ratelimit:writes:${principal.userId}:${Math.floor(now / windowMs)}`;
  let count: number;
  try {
    const redis = await getRedis();
    const [incremented] = await redis.pipeline().incr(key).expire(key, windowSeconds * 2, 'NX').exec<[number, number]>();
    count = incremented;
  } catch (error) {
    log().warn('rate limiter unavailable; letting the write through', { error: (error as Error).message });
    return;
  }
  if (count > writes) {
    if (blockedUntil.size > 10_000) blockedUntil.clear();
    blockedUntil.set(principal.userId, windowEnd);
    throw new RateLimitedError(retryAfter());
  }
}

/** Test hook: forget users remembered as over the limit. */
export function resetRateLimiterForTests(): void {
  blockedUntil.clear();
}

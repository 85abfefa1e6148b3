/**
 * Per-user write rate limiting: a fixed window counted in Redis with one pipelined round trip
 * (INCR + EXPIRE NX). Service principals are exempt. A user found over the limit is remembered in the warm
 * container until the window ends, sparing Redis a call per rejected request. If Redis cannot answer in time
 * the write is let through and counted (`RateLimitFailOpen`): an outage of the ephemeral store must not stop
 * messages, but it must be seen.
 *
 * (@upstash/ratelimit was tried first: its Lua scripts carry a `flags=allow-key-locking` shebang that
 * Redis 7.0 refuses, so it cannot run against a self-hosted Redis.)
 */
import type { Principal } from './auth/principal.js';
import { getConfig } from './config.js';
import { RateLimitedError } from './errors.js';
import { log } from './log.js';
import { countMetric, METRIC } from './observability/metrics.js';
import { getRedis } from './redis/client.js';

/** The one Redis call a limit check needs: increment the window's counter, start its expiry once. */
export type WindowCounter = (key: string, expireSeconds: number) => Promise<number>;

const countInRedis: WindowCounter = async (key, expireSeconds) => {
  const redis = await getRedis();
  const [count] = await redis.pipeline().incr(key).expire(key, expireSeconds, 'NX').exec<[number, number]>();
  return count;
};

const MAX_REMEMBERED_USERS = 10_000;

export class WriteRateLimit {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly counter: WindowCounter = countInRedis,
    private readonly settings: () => { writes: number; windowSeconds: number } = () => getConfig().rateLimit,
  ) {}

  /** Throws RateLimitedError (429 with Retry-After) when the caller has used up this window's writes. */
  async enforce(principal: Principal): Promise<void> {
    if (principal.isService) return;
    const { writes, windowSeconds } = this.settings();
    const now = Date.now();
    const windowMs = windowSeconds * 1000;
    const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
    const retryAfter = () => Math.max(1, Math.ceil((windowEnd - Date.now()) / 1000));
    if ((this.blockedUntil.get(principal.userId) ?? 0) > now) throw new RateLimitedError(retryAfter());

    const key = `ratelimit:writes:${principal.userId}:${Math.floor(now / windowMs)}`;
    let count: number;
    try {
      count = await this.counter(key, windowSeconds * 2);
    } catch (error) {
      log().warn('rate limiter unavailable; letting the write through', { error: (error as Error).message });
      countMetric(METRIC.rateLimitFailOpen);
      return;
    }
    if (count > writes) {
      if (this.blockedUntil.size > MAX_REMEMBERED_USERS) this.blockedUntil.clear();
      this.blockedUntil.set(principal.userId, windowEnd);
      throw new RateLimitedError(retryAfter());
    }
  }
}

const processLimit = new WriteRateLimit();

/** The container's write limit, as the write routes' pipeline applies it. */
export const enforceWriteRate = (principal: Principal): Promise<void> => processLimit.enforce(principal);

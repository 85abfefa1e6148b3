/**
 * Per-user rate limits, writes and reads each with their own quota: a fixed window counted in Redis with one
 * pipelined round trip (INCR + EXPIRE NX). Service principals are exempt. A user found over a limit is
 * remembered in the warm container until the window ends, sparing Redis a call per rejected request. If
 * Redis cannot answer in time the request is let through and counted (`RateLimitFailOpen` for writes,
 * `ReadRateLimitFailOpen` for reads): an outage of the ephemeral store must not stop messages, but it must be
 * seen.
 *
 * A write is counted before its use case runs (a refused write must change nothing). A read is counted beside
 * its use case (see ReadRateLimit), so the limit adds no round trip to a read's latency.
 *
 * (@upstash/ratelimit was tried first: its Lua scripts carry a `flags=allow-key-locking` shebang that
 * Redis 7.0 refuses, so it cannot run against a self-hosted Redis.)
 */
import type { Principal } from './auth/principal.js';
import { getConfig } from './config.js';
import { RateLimitedError } from './errors.js';
import { log } from './log.js';
import { countMetric, METRIC, type MetricName } from './observability/metrics.js';
import { getRedis } from './redis/client.js';

/** The one Redis call a limit check needs: increment the window's counter, start its expiry once. */
export type WindowCounter = (key: string, expireSeconds: number) => Promise<number>;

const countInRedis: WindowCounter = async (key, expireSeconds) => {
  const redis = await getRedis();
  const [count] = await redis.pipeline().incr(key).expire(key, expireSeconds, 'NX').exec<[number, number]>();
  return count;
};

const MAX_REMEMBERED_USERS = 10_000;

type Kind = 'writes' | 'reads';
const FAIL_OPEN: Record<Kind, MetricName> = { writes: METRIC.rateLimitFailOpen, reads: METRIC.readRateLimitFailOpen };

/** One quota (writes or reads) of every user, counted per fixed window. */
export class UserRateLimit {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly kind: Kind,
    private readonly counter: WindowCounter = countInRedis,
    private readonly settings: () => { writes: number; reads: number; windowSeconds: number } = () => getConfig().rateLimit,
  ) {}

  private window(now: number) {
    const windowMs = this.settings().windowSeconds * 1000;
    const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
    return { index: Math.floor(now / windowMs), windowEnd, retryAfter: () => Math.max(1, Math.ceil((windowEnd - Date.now()) / 1000)) };
  }

  /** The 429 this container already knows the caller has earned this window, without asking Redis. */
  knownOver(principal: Principal): RateLimitedError | undefined {
    if (principal.isService) return undefined;
    const now = Date.now();
    return (this.blockedUntil.get(principal.userId) ?? 0) > now ? new RateLimitedError(this.window(now).retryAfter()) : undefined;
  }

  /** Throws RateLimitedError (429 with Retry-After) when the caller has used up this window's quota. */
  async enforce(principal: Principal): Promise<void> {
    if (principal.isService) return;
    const known = this.knownOver(principal);
    if (known) throw known;
    const settings = this.settings();
    const { index, windowEnd, retryAfter } = this.window(Date.now());
    const key = `ratelimit:${this.kind}:${principal.userId}:${index}`;
    let count: number;
    try {
      count = await this.counter(key, settings.windowSeconds * 2);
    } catch (error) {
      log().warn(`rate limiter unavailable; letting the ${this.kind === 'writes' ? 'write' : 'read'} through`, { error: (error as Error).message });
      countMetric(FAIL_OPEN[this.kind]);
      return;
    }
    if (count > settings[this.kind]) {
      if (this.blockedUntil.size > MAX_REMEMBERED_USERS) this.blockedUntil.clear();
      this.blockedUntil.set(principal.userId, windowEnd);
      throw new RateLimitedError(retryAfter());
    }
  }
}

const writeLimit = new UserRateLimit('writes');
const readLimit = new UserRateLimit('reads');

/** The container's write limit, as the write routes' pipeline applies it (before the use case). */
export const enforceWriteRate = (principal: Principal): Promise<void> => writeLimit.enforce(principal);

/**
 * The container's read limit, as the read routes' pipeline applies it: `knownOver` before the use case (a
 * caller this container already refused this window is refused at once, no Redis call, no store work), then
 * `count` started beside the use case. The pipeline answers 429 instead of the result when the count says the
 * caller is over; the read's own result is discarded (reads change nothing, so running one more is harmless).
 */
export const readRateLimit = {
  knownOver: (principal: Principal) => readLimit.knownOver(principal),
  count: (principal: Principal) => readLimit.enforce(principal),
};

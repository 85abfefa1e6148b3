/**
 * Per-user rate limits, writes (WriteRateLimit) and reads (ReadRateLimit) each with their own quota: a fixed
 * window counted in Redis with one pipelined round trip (INCRBY + EXPIRE NX, lib/redis/rest-pipeline.ts). Service principals are exempt. A user found over a limit is
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
import { countMetric, METRIC } from './observability/metrics.js';
import { redisPipeline } from './redis/rest-pipeline.js';

/** The one Redis call a limit check needs: add to the window's counter, start its expiry once; the new total. */
export type WindowCounter = (key: string, expireSeconds: number, by?: number) => Promise<number>;

/** Through the light REST call, not the full @upstash/redis client: this is all the limits ask of Redis. */
const countInRedis: WindowCounter = async (key, expireSeconds, by = 1) => {
  const [count] = await redisPipeline([
    ['INCRBY', key, by],
    ['EXPIRE', key, expireSeconds, 'NX'],
  ]);
  if (typeof count !== 'number') throw new Error(`INCRBY answered ${JSON.stringify(count)}, not a number`);
  return count;
};

const MAX_REMEMBERED_USERS = 10_000;

/** Every user's write quota, counted in Redis per fixed window before the write runs. */
export class WriteRateLimit {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly counter: WindowCounter = countInRedis,
    private readonly settings: () => { writes: number; windowSeconds: number } = () => getConfig().rateLimit,
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
    let count: number;
    try {
      count = await this.counter(`ratelimit:writes:${principal.userId}:${index}`, settings.windowSeconds * 2);
    } catch (error) {
      log().warn('rate limiter unavailable; letting the write through', { error: (error as Error).message });
      countMetric(METRIC.rateLimitFailOpen);
      return;
    }
    if (count > settings.writes) {
      if (this.blockedUntil.size > MAX_REMEMBERED_USERS) this.blockedUntil.clear();
      this.blockedUntil.set(principal.userId, windowEnd);
      throw new RateLimitedError(retryAfter());
    }
  }
}

/** How often a container tells Redis about a user's reads while the user is well under the read limit. */
export const READ_SYNC_MS = 1000;
/** From this share of the limit on, every read is counted in Redis at once. */
const READ_SYNC_EVERY_READ_FROM = 0.8;

interface ReadTally {
  window: number;
  /** The window's total across containers, as Redis last answered it. */
  known: number;
  /** Reads this container served since it last told Redis. */
  pending: number;
  lastSync: number;
}

/**
 * The per-user read quota, counted in this container and told to Redis (INCRBY of what accrued) at most once
 * a second per user while the user is below 80 % of the limit, and on every read from there: a read pays a
 * Redis round trip only when it is the one that syncs (counting every read in Redis cost a get ~3 ms here,
 * the count's round trip being longer than the read). The price is slack: below 80 %, each container may
 * under-report up to a second of the user's reads; near the limit the count is exact. A user this container
 * found over the limit is refused without asking Redis until the window ends.
 */
export class ReadRateLimit {
  private readonly tallies = new Map<string, ReadTally>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly counter: WindowCounter = countInRedis,
    private readonly settings: () => { reads: number; windowSeconds: number } = () => getConfig().rateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** The 429 this container already knows the caller has earned this window, without asking Redis. */
  knownOver(principal: Principal): RateLimitedError | undefined {
    if (principal.isService) return undefined;
    const until = this.blockedUntil.get(principal.userId) ?? 0;
    const now = this.now();
    return until > now ? new RateLimitedError(Math.max(1, Math.ceil((until - now) / 1000))) : undefined;
  }

  /** Counts one read; rejects with the 429 when the caller is over (resolves when Redis cannot answer). */
  async count(principal: Principal): Promise<void> {
    if (principal.isService) return;
    const { reads, windowSeconds } = this.settings();
    const now = this.now();
    const windowMs = windowSeconds * 1000;
    const window = Math.floor(now / windowMs);
    const windowEnd = (window + 1) * windowMs;
    let tally = this.tallies.get(principal.userId);
    if (!tally || tally.window !== window) {
      if (this.tallies.size > MAX_REMEMBERED_USERS) this.tallies.clear();
      tally = { window, known: 0, pending: 0, lastSync: 0 };
      this.tallies.set(principal.userId, tally);
    }
    tally.pending += 1;
    const over = () => {
      if (this.blockedUntil.size > MAX_REMEMBERED_USERS) this.blockedUntil.clear();
      this.blockedUntil.set(principal.userId, windowEnd);
      return new RateLimitedError(Math.max(1, Math.ceil((windowEnd - this.now()) / 1000)));
    };
    const estimate = tally.known + tally.pending;
    if (estimate < reads * READ_SYNC_EVERY_READ_FROM && now - tally.lastSync < READ_SYNC_MS) return;
    const by = tally.pending;
    tally.pending = 0;
    tally.lastSync = now;
    try {
      tally.known = await this.counter(`ratelimit:reads:${principal.userId}:${window}`, windowSeconds * 2, by);
    } catch (error) {
      // Not told: added back, so the next sync carries it.
      tally.pending += by;
      log().warn('rate limiter unavailable; letting the read through', { error: (error as Error).message });
      countMetric(METRIC.readRateLimitFailOpen);
      return;
    }
    if (tally.known > reads) throw over();
  }
}

const writeLimit = new WriteRateLimit();
const readLimit = new ReadRateLimit();

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
  count: (principal: Principal) => readLimit.count(principal),
};

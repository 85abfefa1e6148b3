/**
 * The per-user rate limits. Both run after validation, so a malformed request costs no quota and a request
 * that is both malformed and over a limit gets its 400.
 *
 * Writes (`rateLimit`): counted before the handler, since a refused write must change nothing.
 * Reads (`readLimitedHandler`): a read changes nothing, so its count runs beside the use case instead of
 * before it, and the count itself is kept in the container and told to Redis at most once a second per user
 * until the user nears the limit (lib/rate-limit.ts, ReadRateLimit): most reads pay no Redis round trip, the
 * one that syncs takes as long as the slower of the two. When the count says the caller is over, the answer
 * is the 429 instead of the result. A caller this container already refused this window is refused before
 * the use case runs (no Redis call, no store work).
 */
import type { Principal } from '#lib/auth/principal.js';
import { stateOf, type PipelineMiddleware } from './types.js';

export type WriteRateLimiter = (principal: Principal) => Promise<void>;

export interface ReadRateLimiter {
  /** The 429 already known for this caller in this container, if any. */
  knownOver(principal: Principal): Error | undefined;
  /** Counts the read; rejects with the 429 when the caller is over (resolves when Redis cannot answer). */
  count(principal: Principal): Promise<void>;
}

export function rateLimit(limiter: WriteRateLimiter): PipelineMiddleware {
  return {
    before: async (request) => {
      await limiter(stateOf(request).principal!);
    },
  };
}

/** Runs `handle` with the read counted beside it; throws the 429 instead of returning when over. */
export async function readLimitedHandler<T>(limiter: ReadRateLimiter, principal: Principal, handle: () => Promise<T>): Promise<T> {
  const known = limiter.knownOver(principal);
  if (known) throw known;
  // Settled into a value, so a 429 that arrives while the use case fails is never an unhandled rejection.
  const verdict = limiter.count(principal).then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  const [result, over] = await Promise.all([handle(), verdict]);
  if (over) throw over;
  return result;
}

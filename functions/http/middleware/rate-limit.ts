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
import { stateOf, type Admission, type PipelineMiddleware } from './types.js';

export type WriteRateLimiter = (principal: Principal) => Promise<void>;

export interface ReadRateLimiter {
  /** The 429 already known for this caller in this container, if any. */
  knownOver(principal: Principal): Error | undefined;
  /** Counts the read; rejects with the 429 when the caller is over (resolves when Redis cannot answer). */
  count(principal: Principal): Promise<void>;
}

/**
 * Counts a write. Before the handler by default; for a route that admits beside its preparation, the count is
 * started here and its verdict handed to the use case (RequestState.admission), which awaits it before its
 * first state change: a refused write still changes nothing, and the Redis round trip overlaps the access
 * check and the id instead of preceding them.
 */
export function rateLimit(limiter: WriteRateLimiter, beside = false): PipelineMiddleware {
  return {
    before: async (request) => {
      const state = stateOf(request);
      if (!beside) {
        await limiter(state.principal!);
        return;
      }
      state.admission = startAdmission(limiter(state.principal!));
    },
  };
}

function startAdmission(count: Promise<void>): Admission {
  const verdict = count.then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  const admission = {
    checked: false,
    async check(): Promise<void> {
      admission.checked = true;
      const refusal = await verdict;
      if (refusal) throw refusal;
    },
  };
  return admission;
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

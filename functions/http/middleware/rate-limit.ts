/**
 * The per-user write limit, for routes the table marks as writes. It runs after validation, so a malformed
 * request costs no quota and a request that is both malformed and over the limit gets its 400.
 */
import type { Principal } from '#lib/auth/principal.js';
import { stateOf, type PipelineMiddleware } from './types.js';

export type WriteRateLimiter = (principal: Principal) => Promise<void>;

export function rateLimit(limiter: WriteRateLimiter): PipelineMiddleware {
  return {
    before: async (request) => {
      await limiter(stateOf(request).principal!);
    },
  };
}

import { putReaction } from '#lib/use-cases/reactions.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('put-reaction', async ({ principal, params }) => {
  await putReaction(principal, params.channel_id, params.message_id, params.emoji);
  return noContent();
}, { rateLimiter: enforceWriteRate });

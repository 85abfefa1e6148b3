import { reactionPath } from '#lib/api/schemas.js';
import { putReaction } from '#lib/reactions/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, noContent } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: reactionPath }, async ({ principal, path }) => {
  await putReaction(principal, path.channel_id, path.message_id, path.emoji);
  return noContent();
});

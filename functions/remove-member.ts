import { memberPath } from '#lib/api/schemas.js';
import { removeMember } from '#lib/channels/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, noContent } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: memberPath }, async ({ principal, path }) => {
  await removeMember(principal, path.channel_id, path.user_id);
  return noContent();
});

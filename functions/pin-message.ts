import { pinPath } from '#lib/api/schemas.js';
import { pinMessage } from '#lib/pins/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, noContent } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: pinPath }, async ({ principal, path }) => {
  await pinMessage(principal, path.channel_id, path.message_id);
  return noContent();
});

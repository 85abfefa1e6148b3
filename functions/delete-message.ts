import { messagePath } from '#lib/api/schemas.js';
import { deleteMessage } from '#lib/messages/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, noContent } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: messagePath }, async ({ principal, path }) => {
  await deleteMessage(principal, path.channel_id, path.message_id);
  return noContent();
});

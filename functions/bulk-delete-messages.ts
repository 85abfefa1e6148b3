import { bulkDeleteMessages } from '#lib/use-cases/messages.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('bulk-delete-messages', async ({ principal, params, body }) => {
  await bulkDeleteMessages(principal, params.channel_id, body.message_ids);
  return noContent();
}, { rateLimiter: enforceWriteRate });

import { deleteMessage } from '#lib/use-cases/messages.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('delete-message', async ({ principal, params }) => {
  await deleteMessage(principal, params.channel_id, params.message_id);
  return noContent();
}, { rateLimiter: enforceWriteRate });

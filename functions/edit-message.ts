import { editMessageBody, messagePath } from '#lib/api/schemas.js';
import { editMessage } from '#lib/messages/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, path: messagePath, body: editMessageBody },
  async ({ principal, path, body }) => json(200, await editMessage(principal, path.channel_id, path.message_id, body.content)),
);

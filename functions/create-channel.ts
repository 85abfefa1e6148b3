import { createChannelBody } from '#lib/api/schemas.js';
import { createChannel } from '#lib/channels/service.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimit: enforceWriteRate, body: createChannelBody }, async ({ principal, body }) =>
  json(201, await createChannel(principal, { name: body.name, telegramChatId: body.telegram_chat_id })),
);

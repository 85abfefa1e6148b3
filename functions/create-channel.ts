import { createChannelBody } from '#lib/api/schemas.js';
import { createChannel } from '#lib/channels/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres', 'redis'], rateLimited: true, body: createChannelBody }, async ({ principal, body }) =>
  json(201, await createChannel(principal, { name: body.name, telegramChatId: body.telegram_chat_id })),
);

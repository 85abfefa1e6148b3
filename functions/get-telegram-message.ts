import { telegramMessagePath } from '#lib/api/schemas.js';
import { getByTelegramId } from '#lib/telegram/service.js';
import { httpHandler, json } from './http/handler.js';

export const handler = httpHandler({ stores: ['scylla', 'postgres'], path: telegramMessagePath }, async ({ principal, path }) =>
  json(200, await getByTelegramId(principal, path.telegram_chat_id, path.telegram_message_id)),
);

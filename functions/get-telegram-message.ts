import { getByTelegramId } from '#lib/use-cases/telegram.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-telegram-message', async ({ principal, params }) =>
  json(200, await getByTelegramId(principal, params.telegram_chat_id, params.telegram_message_id)), { readLimiter: readRateLimit });

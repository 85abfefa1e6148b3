import { createChannel } from '#lib/use-cases/channels.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('create-channel', async ({ principal, body }) =>
  json(201, await createChannel(principal, { name: body.name, telegramChatId: body.telegram_chat_id })),
{ rateLimiter: enforceWriteRate });

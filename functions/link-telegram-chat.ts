import { linkChannelToTelegram } from '#lib/use-cases/channels.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('link-telegram-chat', async ({ principal, params, body }) =>
  json(200, await linkChannelToTelegram(principal, params.channel_id, body.telegram_chat_id)),
{ rateLimiter: enforceWriteRate });

import { editMessage } from '#lib/use-cases/messages.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('edit-message', async ({ principal, params, body }) =>
  json(200, await editMessage(principal, params.channel_id, params.message_id, { content: body.content, mentions: body.mentions })),
{ rateLimiter: enforceWriteRate });

import { updateChannel } from '#lib/use-cases/channels.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('update-channel', async ({ principal, params, body }) =>
  json(200, await updateChannel(principal, params.channel_id, { name: body.name })),
{ rateLimiter: enforceWriteRate });

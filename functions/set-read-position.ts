import { setReadPosition } from '#lib/use-cases/read-positions.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('set-read-position', async ({ principal, params, body }) =>
  json(200, await setReadPosition(principal, params.channel_id, body.message_id)),
{ rateLimiter: enforceWriteRate });

import { getMessage } from '#lib/use-cases/messages.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-message', async ({ principal, params }) =>
  json(200, await getMessage(principal, params.channel_id, params.message_id)), { readLimiter: readRateLimit });

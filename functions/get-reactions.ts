import { getReactions } from '#lib/use-cases/reactions.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-reactions', async ({ principal, params }) =>
  json(200, await getReactions(principal, params.channel_id, params.message_id)), { readLimiter: readRateLimit });

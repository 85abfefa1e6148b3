import { listReplies } from '#lib/use-cases/messages.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('list-replies', async ({ principal, params, query }) =>
  json(200, await listReplies(principal, params.channel_id, params.message_id, { limit: query.limit, cursor: query.cursor })), { readLimiter: readRateLimit });

import { getReactionUsers } from '#lib/use-cases/reactions.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-reaction-users', async ({ principal, params, query }) =>
  json(200, await getReactionUsers(principal, params.channel_id, params.message_id, params.emoji, { limit: query.limit, cursor: query.cursor })), { readLimiter: readRateLimit });

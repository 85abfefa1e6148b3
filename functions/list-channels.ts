import { listMyChannels } from '#lib/use-cases/channels.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('list-channels', async ({ principal, query }) =>
  json(200, await listMyChannels(principal, { userId: query.user_id, limit: query.limit, cursor: query.cursor })), { readLimiter: readRateLimit });

import { searchMessages } from '#lib/use-cases/search.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('search-messages', async ({ principal, params, query }) =>
  json(200, await searchMessages(principal, params.channel_id, query)), { readLimiter: readRateLimit });

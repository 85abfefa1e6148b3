import { listTemplates } from '#lib/use-cases/templates.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('list-templates', async ({ principal, params, query }) =>
  json(200, await listTemplates(principal, params.channel_id, { limit: query.limit, cursor: query.cursor })), { readLimiter: readRateLimit });

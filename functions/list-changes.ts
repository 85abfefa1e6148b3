import { listChanges } from '#lib/use-cases/changes.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('list-changes', async ({ principal, params, query }) =>
  json(200, await listChanges(principal, params.channel_id, { after: query.after, limit: query.limit })), { readLimiter: readRateLimit });

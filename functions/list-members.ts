import { listMembers } from '#lib/use-cases/channels.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('list-members', async ({ principal, params, query }) =>
  json(200, await listMembers(principal, params.channel_id, query.limit, query.cursor)), { readLimiter: readRateLimit });

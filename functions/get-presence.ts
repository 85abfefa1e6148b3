import { getPresence } from '#lib/use-cases/presence.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-presence', async ({ query }) => json(200, { presence: await getPresence(query.user_ids) }), { readLimiter: readRateLimit });

import { getReadPosition } from '#lib/use-cases/read-positions.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-read-position', async ({ principal, params }) => json(200, await getReadPosition(principal, params.channel_id)), { readLimiter: readRateLimit });

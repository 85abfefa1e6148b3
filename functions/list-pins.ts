import { listPins } from '#lib/use-cases/pins.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('list-pins', async ({ principal, params }) => json(200, { messages: await listPins(principal, params.channel_id) }), { readLimiter: readRateLimit });

import { whoIsTyping } from '#lib/use-cases/typing.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-typing', async ({ principal, params }) => json(200, { user_ids: await whoIsTyping(principal, params.channel_id) }), { readLimiter: readRateLimit });

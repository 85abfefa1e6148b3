import { getChannel } from '#lib/use-cases/channels.js';
import { readRateLimit } from '#lib/rate-limit.js';
import { httpRoute, json } from './http/pipeline.js';

export const handler = httpRoute('get-channel', async ({ principal, params }) => json(200, await getChannel(principal, params.channel_id)), { readLimiter: readRateLimit });

import { unpinMessage } from '#lib/use-cases/pins.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('unpin-message', async ({ principal, params }) => {
  await unpinMessage(principal, params.channel_id, params.message_id);
  return noContent();
}, { rateLimiter: enforceWriteRate });

import { startTyping } from '#lib/use-cases/typing.js';
import { enforceWriteRate } from '#lib/rate-limit.js';
import { httpRoute, noContent } from './http/pipeline.js';

export const handler = httpRoute('start-typing', async ({ principal, params }) => {
  await startTyping(principal, params.channel_id);
  return noContent();
}, { rateLimiter: enforceWriteRate });
